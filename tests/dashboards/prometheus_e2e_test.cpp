// A real Prometheus (the Debian binary) scrapes a farm that renders a
// screenplay: this process hosts the coordinator, the render actors, the
// credit ledger and the CRM sync (against the local Salesforce) and serves
// their metrics; two `reelfarm node` processes serve theirs. Every dashboard
// panel query and every alert expression is then evaluated through
// /api/v1/query. Node GPUs come from a stand-in nvidia-smi on PATH.
#include <curl/curl.h>
#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "reelfarm/actors/render_service.hpp"
#include "reelfarm/common/metrics.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/crm_sync/crm_sync_runner.hpp"
#include "reelfarm/farm/coordinator/coordinator.hpp"
#include "reelfarm/store/account_repository.hpp"
#include "reelfarm/store/credit_ledger.hpp"
#include "reelfarm/store/job_repository.hpp"
#include "reelfarm/testing/log_watch.hpp"
#include "reelfarm/testing/services.hpp"
#include "reelfarm/testing/temp_dir.hpp"
#include "support/local_salesforce.hpp"

using namespace reelfarm;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const fs::path source = REELFARM_SOURCE_DIR;

constexpr const char* night_shift_script = R"(Title: Night Shift

INT. CONTROL ROOM - NIGHT

MAYA watches a wall of graphs.

MAYA
Every line is green.

EXT. ROOF - DAWN

The antennas hum in the cold.
)";

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

/// GET url; the status (0 when unreachable) and the body.
std::pair<long, std::string> http_get(const std::string& url) {
  std::string body;
  long status = 0;
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  return {status, body};
}

std::string url_encode(const std::string& s) {
  CURL* c = curl_easy_init();
  char* e = curl_easy_escape(c, s.c_str(), static_cast<int>(s.size()));
  std::string out(e);
  curl_free(e);
  curl_easy_cleanup(c);
  return out;
}

/// Stops a child on scope exit, whatever happened: SIGTERM, then SIGKILL.
struct stopped_on_exit {
  child_process child;
  explicit stopped_on_exit(child_process c) : child(std::move(c)) {}
  stopped_on_exit(const stopped_on_exit&) = delete;
  stopped_on_exit& operator=(const stopped_on_exit&) = delete;
  ~stopped_on_exit() {
    if (child.running()) {
      child.signal(SIGTERM);
      if (!child.wait_for(5s)) {
        child.signal(SIGKILL);
        (void)child.wait_for(5s);
      }
    }
  }
};

child_process spawn(std::vector<std::string> argv, const fs::path& log) {
  process_options po;
  po.argv = std::move(argv);
  po.output_file = log.string();
  auto c = child_process::spawn(po);
  REQUIRE(c);
  return std::move(c).value();
}

/// The metric names a scrape shows (histograms under their base name too).
std::set<std::string> names_in(const std::string& text) {
  std::set<std::string> out;
  std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ])");
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (!line.empty() && line[0] != '#' && std::regex_search(line, m, sample))
      out.insert(m[1]);
  }
  return out;
}

struct query_result {
  bool success = false;
  std::size_t series = 0;
  std::string raw;
};

struct prometheus_server {
  std::string base;
  query_result query(const std::string& expr) const {
    auto [status, body] = http_get(base + "/api/v1/query?query=" + url_encode(expr));
    query_result r;
    r.raw = body;
    if (status != 200)
      return r;
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded())
      return r;
    r.success = j.value("status", "") == "success";
    const auto& data = j["data"];
    if (data["resultType"] == "vector" || data["resultType"] == "matrix") {
      r.series = data["result"].size();
    } else {
      r.series = data["result"].is_null() ? 0 : 1;  // scalar
    }
    return r;
  }
};

/// A dashboard query as Grafana would send it, with the variables set to "all".
std::string resolve(std::string expr) {
  expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "20s");
  expr = std::regex_replace(expr, std::regex(R"(\$(instance|node))"), ".*");
  return expr;
}

/// The alert's signal: the expression without its threshold comparisons, so
/// a healthy farm still returns the series the alert watches.
std::string signal_of(const std::string& expr) {
  return std::regex_replace(expr, std::regex(R"(\s*(==|!=|>=|<=|>|<)\s*(bool\s+)?[0-9.eE+-]+)"),
                            "");
}

std::set<std::string> reelfarm_names(const std::string& expr) {
  std::set<std::string> out;
  std::regex name(R"(reelfarm_[a-z0-9_]+)");
  for (std::sregex_iterator it(expr.begin(), expr.end(), name), end; it != end; ++it) {
    out.insert(it->str());
  }
  return out;
}

template <class F>
bool eventually(F f, std::chrono::seconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (f())
      return true;
    std::this_thread::sleep_for(250ms);
  }
  return f();
}

}  // namespace

TEST_CASE("a real Prometheus evaluates every panel and alert against a rendering farm",
          "[e2e][prometheus]") {
  testing::temp_dir dir;
  testing::scratch_database db;
  pg_pool pool{db.dsn(), 4};
  credit_ledger ledger{pool, plan_catalog::defaults()};
  job_repository jobs{pool};
  metrics::register_build_info("e2e");

  // This process: coordinator, actors, ledger, CRM sync; metrics on a port.
  auto host_metrics = metrics::endpoint::serve("127.0.0.1", 0);
  REQUIRE(host_metrics);
  farm::coordinator_options co;
  co.bind = "tcp://127.0.0.1:*";  // the OS picks the port: never probed
  co.timing.heartbeat = 200ms;
  co.timing.ttl = 1000ms;
  co.postgres_dsn = db.dsn();
  auto coordinator = farm::coordinator::create(co);
  REQUIRE(coordinator);
  std::atomic<bool> stop{false};
  std::thread loop([&] { (*coordinator)->run([&] { return stop.load(); }); });
  struct joiner {
    std::atomic<bool>& stop;
    std::thread& t;
    ~joiner() {
      stop = true;
      if (t.joinable())
        t.join();
    }
  } join_loop{stop, loop};

  testing::local_salesforce sf({"--api-limit", "100000"});
  auto crm_options = sf.options();
  crm_options.poll_interval = 500ms;
  crm::crm_sync_runner crm(db.dsn(), crm_options);
  REQUIRE(crm.start());
  struct crm_stopper {
    crm::crm_sync_runner& r;
    ~crm_stopper() { r.stop(); }
  } stop_crm{crm};

  // A stand-in nvidia-smi: two GPUs, answering whichever columns are asked.
  auto bin = dir.path() / "bin";
  fs::create_directories(bin);
  {
    std::ofstream s(bin / "nvidia-smi");
    s << "#!/bin/sh\n"
         "case \"$1\" in\n"
         "  *index,utilization.gpu,memory.used,memory.total*) printf '0, 42, 2048, 16384\\n1, 7, "
         "512, 24576\\n' ;;\n"
         "  *index,memory.total,utilization.gpu*) printf '0, 16384, 42\\n1, 24576, 7\\n' ;;\n"
         "  *) exit 9 ;;\n"
         "esac\n";
  }
  fs::permissions(bin / "nvidia-smi", fs::perms::owner_all);
  std::string path = bin.string() + ":" + (std::getenv("PATH") ? std::getenv("PATH") : "");
  ::setenv("PATH", path.c_str(), 1);

  // Each node's metrics on a port the OS picks, read back from its log.
  std::vector<std::string> node_ports;
  std::vector<std::unique_ptr<stopped_on_exit>> nodes;
  for (int i = 0; i < 2; ++i) {
    auto nd = dir.path() / ("node-" + std::to_string(i));
    fs::create_directories(nd);
    nodes.push_back(std::make_unique<stopped_on_exit>(
        spawn({REELFARM_BINARY, "--data-dir", (dir.path() / "data").string(), "node", "--join",
               (*coordinator)->endpoint(), "--token", (*coordinator)->create_join_token().value(),
               "--backend", "animatic", "--slots", "1", "--metrics-port", "127.0.0.1:0",
               "--node-dir", (nd / "id").string(), "--media-dir", (dir.path() / "media").string()},
              nd / "node.log")));
    auto& node = nodes.back()->child;
    node_ports.push_back(testing::wait_for_log_match(nd / "node.log",
                                                     R"(msg="metrics listening".* port=(\d+))", 30s,
                                                     [&node] { return node.running(); }));
  }

  // Prometheus: scrape every second, the repository's alert rules.
  auto prom_dir = dir.path() / "prometheus";
  fs::create_directories(prom_dir / "data");
  fs::copy_file(source / "deploy" / "prometheus" / "alerts.yml", prom_dir / "alerts.yml");
  {
    std::ofstream y(prom_dir / "prometheus.yml");
    y << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
         "rule_files: [alerts.yml]\n"
         "scrape_configs:\n"
         "  - job_name: reelfarm-host\n    static_configs:\n      - targets: ['127.0.0.1:"
      << (*host_metrics)->port() << "']\n"
      << "  - job_name: reelfarm-node\n    static_configs:\n      - targets: ['127.0.0.1:"
      << node_ports[0] << "', '127.0.0.1:" << node_ports[1] << "']\n";
  }
  stopped_on_exit prom{spawn(
      {REELFARM_PROMETHEUS, "--config.file=" + (prom_dir / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (prom_dir / "data").string(), "--web.listen-address=127.0.0.1:0"},
      prom_dir / "prometheus.log")};
  auto prom_address = testing::wait_for_log_match(
      prom_dir / "prometheus.log", R"(msg="Listening on" address=(127\.0\.0\.1:\d+))", 60s,
      [&prom] { return prom.child.running(); });
  prometheus_server server{"http://" + prom_address};
  INFO("prometheus log: " << (prom_dir / "prometheus.log"));
  REQUIRE(eventually([&] { return server.query("up == 1").series == 3; }, 60s));

  // Render a screenplay through the actors on the two node processes.
  actors::render_service_options ro{{&jobs, plan_catalog::defaults(), {}, dir.path() / "media"},
                                    coordinator->get(),
                                    testing::test_services().redis_url};
  auto service = actors::render_service::create(std::move(ro));
  REQUIRE(service);
  account_repository accounts(pool, plan_catalog::defaults(), password_cost{1, 8 * 1024});
  auto user = accounts.create({"metrics@test.io", "pw-123456", "M", "creator"});
  REQUIRE(user);
  REQUIRE(ledger.change_plan(user->id, "pro", "to-pro"));
  auto project = jobs.create_project(user->id, "Night Shift", night_shift_script,
                                     R"({"resolution":"160x90","fps":8})");
  REQUIRE(project);
  auto job = jobs.create(user->id, *project, "render", R"({"resolution":"160x90","fps":8})");
  REQUIRE(job);
  REQUIRE((*service)->run(job->id));
  REQUIRE(eventually(
      [&] {
        auto v = (*service)->view(job->id);
        return v && v->finished();
      },
      120s));
  CHECK((*service)->view(job->id)->status == "complete");
  REQUIRE(ledger.audit());

  // A few scrapes after the render, so rate() over 20s sees the increase.
  std::this_thread::sleep_for(5s);

  // The linter: every reelfarm_ name a panel or rule uses is in a real scrape.
  std::set<std::string> exported = names_in(metrics::scrape_text());
  for (const auto& port : node_ports) {
    auto [status, text] = http_get("http://127.0.0.1:" + port + "/metrics");
    REQUIRE(status == 200);
    auto more = names_in(text);
    exported.insert(more.begin(), more.end());
  }
  auto exported_base = [&](const std::string& n) {
    return exported.contains(n) || exported.contains(n + "_bucket") ||
           exported.contains(n + "_count");
  };
  const bool gateway_here = exported.contains("reelfarm_http_requests_total");

  int panels = 0;
  for (const auto& file :
       fs::directory_iterator(source / "dashboards" / "grafana" / "dashboards")) {
    std::ifstream in(file.path());
    auto d = nlohmann::json::parse(in);
    for (const auto& p : d["panels"]) {
      if (!p.contains("targets"))
        continue;
      for (const auto& t : p["targets"]) {
        std::string expr = t["expr"];
        INFO(d["uid"] << " / " << p["title"] << ": " << expr);
        for (const auto& n : reelfarm_names(expr)) {
          INFO(n);
          // The gateway serves its families in `reelfarm serve`, not here.
          if (n.starts_with("reelfarm_http_") && !gateway_here)
            continue;
          CHECK(exported_base(n));
        }
        auto r = server.query(resolve(expr));
        INFO(r.raw.substr(0, 400));
        CHECK(r.success);
        if (d["uid"] != "reelfarm-gateway" || gateway_here) {
          CHECK(r.series >= 1);
        } else {
          WARN("gateway families are not in this process: " << expr << " only parsed");
        }
        ++panels;
      }
    }
  }
  CHECK(panels > 30);

  auto rules = YAML::LoadFile((source / "deploy" / "prometheus" / "alerts.yml").string());
  std::map<std::string, std::string> alerts;
  for (const auto& g : rules["groups"]) {
    for (const auto& r : g["rules"])
      alerts[r["alert"].as<std::string>()] = r["expr"].as<std::string>();
  }
  for (const auto& [name, expr] : alerts) {
    INFO(name << ": " << expr);
    for (const auto& n : reelfarm_names(expr)) {
      INFO(n);
      CHECK(exported_base(n));
    }
    CHECK(server.query(expr).success);
    auto signal = server.query(signal_of(expr));
    INFO(signal_of(expr) << " -> " << signal.raw.substr(0, 400));
    CHECK(signal.success);
    CHECK(signal.series >= 1);
  }
  // A consistent ledger and a healthy farm fire nothing.
  CHECK(server.query(alerts["ReelfarmLedgerInvariantFailing"]).series == 0);
  CHECK(server.query(alerts["ReelfarmNodeLost"]).series == 0);

  // Cause the event: kill -9 a node; the coordinator declares it lost and
  // the NodeLost expression returns it.
  nodes[1]->child.signal(SIGKILL);
  CHECK(eventually([&] { return server.query(alerts["ReelfarmNodeLost"]).series == 1; }, 30s));
  CHECK(eventually([&] { return server.query("reelfarm_farm_nodes_lost_total > 0").series == 1; },
                   30s));
}
