#include <cstdio>

#include <sstream>

#include "commands.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/common/signals.hpp"
#include "reelfarm/crm_sync/crm_sync_runner.hpp"
#include "reelfarm/gateway/http_server.hpp"
#include "reelfarm/store/plan_catalog.hpp"
#include "reelfarm/store/store_services.hpp"

namespace reelfarm::app {
namespace {

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: reelfarm serve [--check]\n"
      "  Starts the farm: the embedded PostgreSQL and Redis unless postgres.dsn and\n"
      "  redis.url are configured, applies the database migrations, serves the HTTP\n"
      "  API (gateway.host:gateway.port), mirrors into Salesforce when crm.enabled,\n"
      "  and runs until SIGINT or SIGTERM, then stops everything it started.\n"
      "  --check  start, verify and print the status of every service, then stop\n",
      out);
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    auto begin = item.find_first_not_of(' ');
    auto end = item.find_last_not_of(' ');
    if (begin != std::string::npos) {
      out.push_back(item.substr(begin, end - begin + 1));
    }
  }
  return out;
}

gateway::gateway_options gateway_options_from(const gateway_settings& g) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  gateway::gateway_options o;
  o.host = g.host;
  o.port = g.port;
  o.io_threads = g.io_threads;
  o.blocking_threads = g.blocking_threads;
  o.json_body_limit = static_cast<std::size_t>(g.max_json_body);
  o.upload_body_limit = static_cast<std::size_t>(g.max_upload_body);
  o.header_timeout = g.header_timeout;
  o.idle_timeout = g.idle_timeout;
  o.jwt_secret = g.jwt_secret;
  o.jwt_issuer = g.jwt_issuer;
  o.access_ttl = duration_cast<seconds>(g.access_token_ttl);
  o.refresh_ttl = duration_cast<seconds>(g.refresh_token_ttl);
  o.cors_origins = split_commas(g.cors_origins);
  o.limits.per_user = g.rate_limit_per_user;
  o.limits.per_ip = g.rate_limit_per_ip;
  o.limits.login_per_ip = g.rate_limit_login_per_ip;
  o.allow_self_topup = g.allow_self_topup;
  return o;
}

crm::crm_options crm_options_from(const crm_settings& c) {
  crm::crm_options o;
  o.login_url = c.login_url;
  o.api_version = c.api_version;
  o.flow = c.auth_flow == "client_credentials" ? crm::auth_flow::client_credentials
                                               : crm::auth_flow::jwt_bearer;
  o.client_id = c.client_id;
  o.client_secret = c.client_secret;
  o.username = c.username;
  o.private_key_file = c.private_key_file;
  o.audience = c.audience;
  o.batch_size = static_cast<std::size_t>(c.batch_size);
  o.bulk_threshold = static_cast<std::size_t>(c.bulk_threshold);
  o.poll_interval = c.poll_interval;
  o.send_interval = c.send_interval;
  return o;
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
  auto plans = cfg->plans.file.empty() ? result<plan_catalog>(plan_catalog::defaults())
                                       : plan_catalog::load_file(cfg->plans.file);
  if (!plans) {
    std::fprintf(stderr, "reelfarm serve: %s\n", plans.error().message().c_str());
    return exit_usage;
  }
  gateway::gateway_backends backends{(*services)->postgres_dsn(), (*services)->redis_url(), *plans,
                                     static_cast<std::size_t>(cfg->postgres.pool_size)};
  auto server = gateway::http_server::start(gateway_options_from(cfg->gateway), backends);
  if (!server) {
    std::fprintf(stderr, "reelfarm serve: %s\n", server.error().message().c_str());
    return exit_failure;
  }
  std::unique_ptr<crm::crm_sync_runner> crm_runner;
  if (cfg->crm.enabled) {
    crm_runner = std::make_unique<crm::crm_sync_runner>((*services)->postgres_dsn(),
                                                        crm_options_from(cfg->crm));
    if (auto r = crm_runner->start(); !r) {
      std::fprintf(stderr, "reelfarm serve: %s\n", r.error().message().c_str());
      (*server)->stop();
      return exit_failure;
    }
  }
  print_status(**services);
  std::printf("  gateway      http://%s:%d/api/v1  (docs: /api/docs)\n", cfg->gateway.host.c_str(),
              (*server)->port());
  std::printf("  crm sync     %s\n", crm_runner ? "running" : "off (crm.enabled: false)");
  std::fflush(stdout);
  if (!check) {
    log::info("serve", "ready; stop with Ctrl-C or SIGTERM");
    while (!signals::wait_for_stop(std::chrono::hours(24))) {
    }
    log::info("serve", "stopping", {{"signal", signals::stop_signal()}});
  }
  (*server)->stop();
  if (crm_runner) {
    crm_runner->stop();
  }
  if (auto r = (*services)->stop(); !r) {
    std::fprintf(stderr, "reelfarm serve: %s\n", r.error().message().c_str());
    return exit_failure;
  }
  std::printf("  stopped      all services stopped cleanly\n");
  return exit_ok;
}

}  // namespace reelfarm::app
