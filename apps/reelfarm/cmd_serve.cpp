#include <cstdio>

#include "commands.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/common/signals.hpp"
#include "reelfarm/store/store_services.hpp"

namespace reelfarm::app {
namespace {

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: reelfarm serve [--check]\n"
      "  Starts the farm: the embedded PostgreSQL and Redis unless postgres.dsn and\n"
      "  redis.url are configured, applies the database migrations, and runs until\n"
      "  SIGINT or SIGTERM, then stops everything it started.\n"
      "  --check  start, verify and print the status of every service, then stop\n",
      out);
}

void print_status(const store_services& services) {
  std::printf("reelfarm %s\n", REELFARM_VERSION);
  if (const auto* embedded = services.embedded()) {
    const auto& pg = embedded->postgres();
    const auto& redis = embedded->redis();
    std::printf("  data dir     %s\n", embedded->options().data_dir.c_str());
    std::printf("  postgres     running  127.0.0.1:%d  PostgreSQL %s  pid %d  %s\n", pg.port,
                services.postgres_version().c_str(), static_cast<int>(pg.pid),
                pg.initialized ? "(new cluster)" : "(existing data)");
    std::printf("  redis        running  127.0.0.1:%d  Redis %s  pid %d\n", redis.port,
                services.redis_version().c_str(), static_cast<int>(redis.pid));
  } else {
    std::printf("  postgres     external  %s  PostgreSQL %s\n",
                log::redact_dsn(services.postgres_dsn()).c_str(),
                services.postgres_version().c_str());
    std::printf("  redis        external  %s  Redis %s\n",
                log::redact_dsn(services.redis_url()).c_str(), services.redis_version().c_str());
  }
  const auto& m = services.migrations();
  std::printf("  migrations   schema version %d", m.to_version);
  if (m.applied.empty()) {
    std::printf(" (up to date)\n");
  } else {
    std::printf(" (applied now:");
    for (const auto& name : m.applied) {
      std::printf(" %s", name.c_str());
    }
    std::printf(")\n");
  }
  std::fflush(stdout);
}

}  // namespace

int cmd_serve(const std::vector<std::string>& args, const global_options& options) {
  bool check = false;
  for (const auto& arg : args) {
    if (arg == "--check") {
      check = true;
    } else if (arg == "--help" || arg == "-h") {
      print_usage(stdout);
      return exit_ok;
    } else {
      std::fprintf(stderr, "reelfarm serve: unknown argument '%s'\n", arg.c_str());
      print_usage(stderr);
      return exit_usage;
    }
  }
  auto cfg = load_configuration(options);
  if (!cfg) {
    return exit_usage;
  }
  signals::install_stop_handlers();
  auto services = store_services::open(*cfg);
  if (!services) {
    std::fprintf(stderr, "reelfarm serve: %s\n", services.error().message().c_str());
    return exit_failure;
  }
  print_status(**services);
  if (!check) {
    log::info("serve", "ready; stop with Ctrl-C or SIGTERM");
    while (!signals::wait_for_stop(std::chrono::hours(24))) {
    }
    log::info("serve", "stopping", {{"signal", signals::stop_signal()}});
  }
  if (auto r = (*services)->stop(); !r) {
    std::fprintf(stderr, "reelfarm serve: %s\n", r.error().message().c_str());
    return exit_failure;
  }
  std::printf("  stopped      all services stopped cleanly\n");
  return exit_ok;
}

}  // namespace reelfarm::app
