#include <cstdio>

#include <atomic>
#include <filesystem>
#include <optional>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "health_listener.hpp"
#include "leader_election.hpp"
#include "reelfarm/actors/render_service.hpp"
#include "reelfarm/billing/billing_service.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/common/metrics.hpp"
#include "reelfarm/common/signals.hpp"
#include "reelfarm/crm_sync/crm_sync_runner.hpp"
#include "reelfarm/farm/coordinator/admin_client.hpp"
#include "reelfarm/farm/coordinator/coordinator.hpp"
#include "reelfarm/gateway/http_server.hpp"
#include "reelfarm/store/credit_ledger.hpp"
#include "reelfarm/store/embedded_options.hpp"
#include "reelfarm/store/job_repository.hpp"
#include "reelfarm/store/plan_catalog.hpp"
#include "reelfarm/store/store_services.hpp"
#include "reelfarm/youtube/upload_worker.hpp"

namespace reelfarm::app {
namespace {

namespace fs = std::filesystem;

// Where `serve` exposes /metrics unless --metrics-port says otherwise.
constexpr const char* default_metrics_port = "127.0.0.1:9464";

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: reelfarm serve [--role all|gateway|coordinator] [--health-port [HOST:]PORT]\n"
      "                      [--metrics-port [HOST:]PORT] [--check]\n"
      "  Starts the farm: the embedded PostgreSQL and Redis unless postgres.dsn and\n"
      "  redis.url are configured, applies the database migrations, and runs until\n"
      "  SIGINT or SIGTERM, then stops everything it started. By role:\n"
      "    gateway      the HTTP API (gateway.host:gateway.port); it queues and\n"
      "                 cancels render jobs in PostgreSQL\n"
      "    coordinator  the farm coordinator (farm.bind; render nodes join it), the\n"
      "                 render actors that run every queued job, the Salesforce\n"
      "                 mirror when crm.enabled, and YouTube uploads when\n"
      "                 youtube.client_id and youtube.token_key are set\n"
      "    all          both in one process (the default)\n"
      "  Render nodes: `reelfarm node --join <farm.bind> --token \"$(reelfarm ctl nodes token)\"\n"
      "  --media-dir <data dir>/media` (the token is needed once, to enrol the node's key).\n"
      "  Coordinators elect a leader with a PostgreSQL advisory lock: several may run\n"
      "  on one database; one leads, the others wait (\"standby\") and take over\n"
      "  within seconds when it dies. A leader that loses the lock exits 1.\n"
      "  --health-port  serve /healthz, /readyz (200 on the leader, 503 on a standby)\n"
      "                 and /metrics there (HOST defaults to 0.0.0.0)\n"
      "  --metrics-port  serve Prometheus metrics at http://HOST:PORT/metrics (HOST\n"
      "                 defaults to 0.0.0.0; default 127.0.0.1:9464, loopback only;\n"
      "                 0 turns it off). Never on the public API port.\n"
      "  --check  start, verify and print the status of every service, then stop\n",
      out);
}

// Where nodes and the gateway reach a coordinator bound to `bind`: a
// wildcard address is reachable on loopback from this machine.
std::string connect_address(const std::string& bind) {
  for (const char* any : {"tcp://0.0.0.0:", "tcp://*:"}) {
    if (bind.starts_with(any)) {
      return "tcp://127.0.0.1:" + bind.substr(std::string(any).size());
    }
  }
  return bind;
}

/// The coordinator role: the farm's coordinator on its own thread, the render
/// actors, and the dispatcher that hands them the jobs the gateways queue.
class coordinator_role {
 public:
  ~coordinator_role() { stop(); }

  result<void> start(const config& cfg, const std::string& dsn, const std::string& redis_url,
                     const plan_catalog& plans, const std::filesystem::path& media_dir,
                     const std::filesystem::path& operator_key, bool dispatch_jobs,
                     const leader_election* leader) {
    leader_ = leader;
    farm::coordinator_options co;
    co.operator_key_file = operator_key;
    co.bind = cfg.farm.bind;
    co.timing.heartbeat = cfg.farm.heartbeat;
    co.timing.ttl = cfg.farm.lease_ttl;
    co.postgres_dsn = dsn;
    auto made = farm::coordinator::create(co);
    if (!made) {
      return made.error();
    }
    coordinator_ = std::move(made).value();
    farm_thread_ = std::thread([this] { coordinator_->run([this] { return stopping_.load(); }); });
    pool_ = std::make_unique<pg_pool>(dsn, 4);
    jobs_ = std::make_unique<job_repository>(*pool_);
    ledger_ = std::make_unique<credit_ledger>(*pool_, plans);
    if (auto billing = billing::options_from(cfg.billing); !billing) {
      return billing.error();
    } else if (billing->enabled()) {
      stripe_ = std::make_unique<billing::stripe_client>(billing->stripe);
      billing_ = std::make_unique<billing::billing_service>(*billing, *ledger_, *stripe_);
    }
    std::error_code ec;
    std::filesystem::create_directories(media_dir, ec);
    actors::job_context ctx{
        jobs_.get(), plans, cfg.planner, media_dir,
        actors::generation_prices{cfg.planner.t2v_credits, cfg.planner.i2v_credits}};
    auto service = actors::render_service::create({ctx, coordinator_.get(), redis_url});
    if (!service) {
      return service.error();
    }
    service_ = std::move(service).value();
    if (dispatch_jobs) {
      dispatch_thread_ = std::thread([this] { dispatch(); });
    }
    return ok();
  }

  /// Where the coordinator is bound (the OS's port for farm.bind port 0).
  const std::string& endpoint() const { return coordinator_->endpoint(); }

  void stop() {
    stopping_ = true;
    if (dispatch_thread_.joinable()) {
      dispatch_thread_.join();
    }
    service_.reset();  // supervisors stop; their jobs resume at the next start
    if (farm_thread_.joinable()) {
      farm_thread_.join();
    }
    coordinator_.reset();
  }

 private:
  // Jobs queued by any gateway start within a quarter second; a job
  // cancelled through a gateway stops as quickly. PostgreSQL is the only
  // channel, so gateways and coordinators may run on different machines.
  void dispatch() {
    bool failing = false;
    auto next_chores = std::chrono::steady_clock::now();
    // A leader that lost its lock stops dispatching at once, before the
    // process stops: never two coordinators starting the same jobs.
    while (!stopping_ && (leader_ == nullptr || leader_->leading())) {
      if (std::chrono::steady_clock::now() >= next_chores) {
        ledger_chores();
        next_chores = std::chrono::steady_clock::now() + chores_every;
      }
      auto synced = service_->sync_with_store();
      if (!synced && !failing) {
        log::warn("serve", "cannot read the job queue; retrying",
                  {{"error", synced.error().message()}});
      } else if (synced && *synced > 0) {
        log::info("serve", "render jobs started", {{"count", *synced}});
      }
      failing = !synced;
      for (int i = 0; i < 5 && !stopping_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

  // The ledger's housekeeping: monthly allowances that fell due, subscriptions
  // whose grace period ran out, and the
  // invariant audit (its outcome is the reelfarm_ledger_audit_problems
  // gauge the LedgerInvariantFailing alert watches).
  void ledger_chores() {
    auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
    if (auto renewed = ledger_->reset_all_due(today); !renewed) {
      log::warn("serve", "monthly credit resets failed", {{"error", renewed.error().message()}});
    } else if (*renewed > 0) {
      log::info("serve", "monthly credits renewed", {{"users", *renewed}});
    }
    if (billing_) {
      if (auto lapsed = billing_->expire_overdue(std::chrono::system_clock::now()); !lapsed) {
        log::warn("serve", "lapsing overdue subscriptions failed",
                  {{"error", lapsed.error().message()}});
      } else if (*lapsed > 0) {
        log::info("serve", "overdue subscriptions lapsed", {{"subscriptions", *lapsed}});
      }
    }
    auto audit = ledger_->audit();
    if (!audit) {
      log::warn("serve", "ledger audit failed to run", {{"error", audit.error().message()}});
    } else if (!audit->consistent()) {
      log::error("serve", "ledger audit found problems", {{"problems", audit->problems.size()}});
    }
  }

  static constexpr auto chores_every = std::chrono::minutes(10);

  const leader_election* leader_ = nullptr;
  std::unique_ptr<farm::coordinator> coordinator_;
  std::unique_ptr<pg_pool> pool_;
  std::unique_ptr<credit_ledger> ledger_;
  std::unique_ptr<billing::stripe_client> stripe_;
  std::unique_ptr<billing::billing_service> billing_;  ///< null without billing
  std::unique_ptr<job_repository> jobs_;
  std::unique_ptr<actors::render_service> service_;
  std::thread farm_thread_;
  std::thread dispatch_thread_;
  std::atomic<bool> stopping_{false};
};

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
  o.grafana_url = g.grafana_url;
  o.secure_cookies = g.secure_cookies;
  o.limits.per_user = g.rate_limit_per_user;
  o.limits.per_ip = g.rate_limit_per_ip;
  o.limits.login_per_ip = g.rate_limit_login_per_ip;
  o.trusted_proxies = split_commas(g.trusted_proxies);
  o.max_streams_per_user = static_cast<std::size_t>(g.max_streams_per_user);
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

// The configured key; else, on the embedded default, the one kept in the
// data folder so that sign-ins survive a restart; else none (the gateway
// draws a random one per process and says so).
result<std::string> token_signing_key(const store_services& services,
                                      const std::string& configured) {
  if (!configured.empty() || services.embedded() == nullptr) {
    return configured;
  }
  return services.embedded()->secret("jwt.key");
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
  std::string role = "all";
  std::string health_port;
  std::optional<std::string> metrics_port;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "--check") {
      check = true;
    } else if (arg == "--role" && i + 1 < args.size()) {
      role = args[++i];
      if (role != "all" && role != "gateway" && role != "coordinator") {
        std::fprintf(stderr, "reelfarm serve: --role takes all, gateway or coordinator\n");
        return exit_usage;
      }
    } else if (arg == "--health-port" && i + 1 < args.size()) {
      health_port = args[++i];
    } else if (arg == "--metrics-port" && i + 1 < args.size()) {
      metrics_port = args[++i];
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
  const auto yt = youtube::options_from(cfg->youtube);
  if (auto valid = yt.validate(); !valid) {
    std::fprintf(stderr, "reelfarm serve: %s\n", valid.error().message().c_str());
    return exit_usage;
  }
  // Metrics on their own port, loopback unless told otherwise: the public
  // API port does not serve them. A port given explicitly must be bound;
  // the default one may be taken (a second `serve` on the machine), which
  // costs this process its metrics and a warning, not its start.
  std::unique_ptr<metrics::endpoint> metrics_endpoint;
  if (!check) {
    auto served = metrics::serve_flag(metrics_port.value_or(default_metrics_port));
    if (served) {
      metrics_endpoint = std::move(served).value();
    } else if (metrics_port) {
      std::fprintf(stderr, "reelfarm serve: %s\n", served.error().message().c_str());
      return exit_usage;
    } else {
      log::warn("serve", "no metrics listener: the default port is taken; pass --metrics-port",
                {{"port", default_metrics_port}, {"error", served.error().message()}});
    }
  }
  signals::install_stop_handlers();
  metrics::register_build_info(REELFARM_VERSION);
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
  bool serve_gateway = role != "coordinator";
  bool serve_farm = role != "gateway";
  auto data_dir =
      cfg->embedded.data_dir.empty() ? default_data_dir() : fs::path(cfg->embedded.data_dir);
  auto media_dir = data_dir / "media";
  // Leader election before the farm socket is bound and jobs are dispatched
  // (leader_election.hpp). Declared before farm_role so that the lock is
  // released only after the farm stopped.
  std::atomic<bool> leader_lost{false};
  std::unique_ptr<leader_election> election;
  if (serve_farm) {
    election = std::make_unique<leader_election>((*services)->postgres_dsn());
  }
  std::unique_ptr<health_listener> health;
  if (!health_port.empty()) {
    const auto* e = election.get();
    auto started = health_listener::start(
        health_port, [e] { return e == nullptr || e->leading(); },
        serve_farm ? "leader" : "gateway");
    if (!started) {
      std::fprintf(stderr, "reelfarm serve: %s\n", started.error().message().c_str());
      return exit_usage;
    }
    health = std::move(started).value();
    log::info("serve", "health listener", {{"port", health->port()}});
  }
  if (serve_farm) {
    bool leads = false;
    if (check) {
      auto tried = election->try_acquire();
      if (!tried) {
        std::fprintf(stderr, "reelfarm serve: %s\n", tried.error().message().c_str());
        return exit_failure;
      }
      leads = *tried;
    } else {
      leads = election->wait_to_lead([] { return signals::stop_requested(); });
    }
    if (!leads && !check) {
      log::info("serve", "stopped while standby", {{"signal", signals::stop_signal()}});
      election.reset();
      health.reset();
      auto r = (*services)->stop();
      return r ? exit_ok : exit_failure;
    }
    if (!leads) {
      std::printf("  coordinator  standby: another coordinator holds the leader lock\n");
      serve_farm = false;
    }
  }
  std::unique_ptr<coordinator_role> farm_role;
  if (serve_farm) {
    farm_role = std::make_unique<coordinator_role>();
    if (auto r =
            farm_role->start(*cfg, (*services)->postgres_dsn(), (*services)->redis_url(), *plans,
                             media_dir, farm::operator_key_path(data_dir), !check, election.get());
        !r) {
      std::fprintf(stderr, "reelfarm serve: coordinator: %s\n", r.error().message().c_str());
      return exit_failure;
    }
    if (!check) {
      election->watch([&leader_lost] {
        leader_lost = true;
        signals::request_stop();  // exit 1 below: the supervisor restarts us as a standby
      });
    }
  }
  std::unique_ptr<gateway::http_server> server;
  if (serve_gateway) {
    gateway::gateway_backends backends{
        (*services)->postgres_dsn(),
        (*services)->redis_url(),
        *plans,
        static_cast<std::size_t>(cfg->postgres.pool_size),
        media_dir,
        connect_address(farm_role ? farm_role->endpoint() : cfg->farm.bind),
        cfg->planner,
        yt};
    auto gateway_options = gateway_options_from(cfg->gateway);
    if (auto billing = billing::options_from(cfg->billing); !billing) {
      std::fprintf(stderr, "reelfarm serve: %s\n", billing.error().message().c_str());
      return exit_failure;
    } else {
      gateway_options.billing = std::move(billing).value();
    }
    if (auto key = token_signing_key(**services, gateway_options.jwt_secret); !key) {
      std::fprintf(stderr, "reelfarm serve: %s\n", key.error().message().c_str());
      return exit_failure;
    } else {
      gateway_options.jwt_secret = std::move(key).value();
    }
    auto started = gateway::http_server::start(gateway_options, backends);
    if (!started) {
      std::fprintf(stderr, "reelfarm serve: %s\n", started.error().message().c_str());
      return exit_failure;
    }
    server = std::move(started).value();
  }
  std::unique_ptr<crm::crm_sync_runner> crm_runner;
  if (cfg->crm.enabled && serve_farm) {
    crm_runner = std::make_unique<crm::crm_sync_runner>((*services)->postgres_dsn(),
                                                        crm_options_from(cfg->crm));
    if (auto r = crm_runner->start(); !r) {
      std::fprintf(stderr, "reelfarm serve: %s\n", r.error().message().c_str());
      return exit_failure;
    }
  }
  // YouTube uploads run in the coordinator role, next to the render actors.
  std::unique_ptr<youtube::upload_worker> uploads;
  if (yt.enabled() && serve_farm && !check) {
    youtube::upload_worker_options wo;
    wo.youtube = yt;
    wo.postgres_dsn = (*services)->postgres_dsn();
    wo.redis_url = (*services)->redis_url();
    wo.media_dir = media_dir;
    auto made = youtube::upload_worker::create(wo);
    if (!made) {
      std::fprintf(stderr, "reelfarm serve: %s\n", made.error().message().c_str());
      return exit_failure;
    }
    uploads = std::move(made).value();
    uploads->start();
  }
  print_status(**services);
  if (server) {
    std::printf("  gateway      http://%s:%d/api/v1  (docs: /api/docs)\n",
                cfg->gateway.host.c_str(), server->port());
  }
  if (farm_role) {
    std::printf(
        "  coordinator  %s  (leader; nodes join here with a token from `reelfarm ctl nodes "
        "token`; media in %s)\n",
        farm_role->endpoint().c_str(), media_dir.c_str());
  }
  std::printf("  crm sync     %s\n", crm_runner    ? "running"
                                     : !serve_farm ? "off (role gateway)"
                                                   : "off (crm.enabled: false)");
  std::printf("  youtube      %s\n", uploads         ? "uploading"
                                     : !serve_farm   ? "off (role gateway)"
                                     : !yt.enabled() ? "off (youtube.client_id, token_key)"
                                                     : "off (--check)");
  std::fflush(stdout);
  if (!check) {
    log::info("serve", "ready; stop with Ctrl-C or SIGTERM");
    while (!signals::wait_for_stop(std::chrono::hours(24))) {
    }
    log::info("serve", "stopping", {{"signal", signals::stop_signal()}});
  }
  if (election) {
    election->stop_watching();  // stopping now: losing the lock's session is expected
  }
  if (server) {
    server->stop();
  }
  if (crm_runner) {
    crm_runner->stop();
  }
  if (uploads) {
    uploads->stop();  // an upload under way resumes from its session at the next start
  }
  if (farm_role) {
    farm_role->stop();
  }
  election.reset();  // releases the lock: a standby may bind farm.bind now
  if (auto r = (*services)->stop(); !r) {
    std::fprintf(stderr, "reelfarm serve: %s\n", r.error().message().c_str());
    return exit_failure;
  }
  if (leader_lost) {
    std::fprintf(stderr, "reelfarm serve: lost the coordinator leader lock; exiting\n");
    return exit_failure;
  }
  std::printf("  stopped      all services stopped cleanly\n");
  return exit_ok;
}

}  // namespace reelfarm::app
