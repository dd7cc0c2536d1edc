#include <cstdio>

#include "commands.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/common/metrics.hpp"
#include "reelfarm/common/signals.hpp"
#include "reelfarm/farm/coordinator/admin_client.hpp"
#include "reelfarm/farm/coordinator/coordinator.hpp"
#include "reelfarm/store/store_services.hpp"

namespace reelfarm::app {

namespace {

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: reelfarm coordinator [--bind tcp://HOST:PORT] [--heartbeat 1s] [--ttl 5s]\n"
      "                            [--metrics-port [HOST:]PORT]\n"
      "  Runs the farm coordinator (lease manager) on a ZeroMQ ROUTER socket, with\n"
      "  PostgreSQL (embedded unless postgres.dsn is set) for nodes, leases and epochs.\n"
      "  The socket speaks CURVE: nodes join with a token from `reelfarm ctl nodes\n"
      "  token`, which uses the operator key kept in DATA_DIR/secrets/farm-operator.json.\n"
      "  --metrics-port serves Prometheus metrics at http://HOST:PORT/metrics\n"
      "  (HOST defaults to 0.0.0.0; absent or 0: no metrics listener).\n",
      out);
}

}  // namespace

// Until `reelfarm serve` starts the coordinator itself (issue #7), this runs one.
int cmd_coordinator(const std::vector<std::string>& args, const global_options& options) {
  auto cfg = load_configuration(options);
  if (!cfg) {
    return exit_usage;
  }
  // The configuration gives the defaults; flags override them for this run.
  farm::coordinator_options co;
  co.bind = cfg->farm.bind;
  co.timing.heartbeat = cfg->farm.heartbeat;
  co.timing.ttl = cfg->farm.lease_ttl;
  std::string metrics_at;
  for (std::size_t i = 0; i < args.size(); ++i) {
    bool has_value = i + 1 < args.size();
    if (args[i] == "--bind" && has_value) {
      co.bind = args[++i];
    } else if (args[i] == "--metrics-port" && has_value) {
      metrics_at = args[++i];
    } else if ((args[i] == "--heartbeat" || args[i] == "--ttl") && has_value) {
      auto d = parse_duration(args[i + 1]);
      if (!d) {
        std::fprintf(stderr, "reelfarm coordinator: %s\n", d.error().message().c_str());
        return exit_usage;
      }
      (args[i] == "--ttl" ? co.timing.ttl : co.timing.heartbeat) = *d;
      ++i;
    } else {
      print_usage(args[i] == "--help" ? stdout : stderr);
      return args[i] == "--help" ? exit_ok : exit_usage;
    }
  }
  if (co.timing.ttl <= co.timing.heartbeat) {
    std::fprintf(stderr,
                 "reelfarm coordinator: the lease TTL (%s) must be longer than the "
                 "heartbeat (%s)\n",
                 format_duration(co.timing.ttl).c_str(),
                 format_duration(co.timing.heartbeat).c_str());
    return exit_usage;
  }
  auto metrics_endpoint = metrics::serve_flag(metrics_at);
  if (!metrics_endpoint) {
    std::fprintf(stderr, "reelfarm coordinator: %s\n", metrics_endpoint.error().message().c_str());
    return exit_usage;
  }
  metrics::register_build_info(REELFARM_VERSION);
  signals::install_stop_handlers();
  auto services = store_services::open(*cfg);
  if (!services) {
    std::fprintf(stderr, "reelfarm coordinator: %s\n", services.error().message().c_str());
    return exit_failure;
  }
  co.postgres_dsn = (*services)->postgres_dsn();
  co.operator_key_file = farm::operator_key_path(
      cfg->embedded.data_dir.empty() ? default_data_dir()
                                     : std::filesystem::path(cfg->embedded.data_dir));
  auto coordinator = farm::coordinator::create(co);
  if (!coordinator) {
    std::fprintf(stderr, "reelfarm coordinator: %s\n", coordinator.error().message().c_str());
    (void)(*services)->stop();
    return exit_failure;
  }
  log::info("coordinator", "ready", {{"bind", (*coordinator)->endpoint()}});
  (*coordinator)->run([] { return signals::stop_requested(); });
  coordinator->reset();
  (void)(*services)->stop();
  return exit_ok;
}

}  // namespace reelfarm::app
