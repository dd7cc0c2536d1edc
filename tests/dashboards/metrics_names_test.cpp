// Metric names and labels as the exposition shows them: the conventions of
// issue #9 (one reelfarm_ prefix, _total counters, _seconds/_bytes units, no
// user ids or emails in label values) and the hooks' effects.
#include <regex>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "reelfarm/common/metrics.hpp"
#include "reelfarm/farm/node/node_metrics.hpp"
#include "reelfarm/gateway/gateway_probe.hpp"
#include "reelfarm/store/ledger_metrics.hpp"

using namespace reelfarm;

namespace {

bool has_line(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0)
      return true;
  }
  return false;
}

}  // namespace

TEST_CASE("build info is registered once with the version", "[metrics]") {
  metrics::register_build_info("9.9.9");
  metrics::register_build_info("9.9.9");
  auto text = metrics::scrape_text();
  CHECK(has_line(text, "reelfarm_build_info{"));
  CHECK(text.find("version=\"9.9.9\"") != std::string::npos);
  std::regex one(R"(reelfarm_build_info\{[^}]*\} 1\n)");
  auto n = std::distance(std::sregex_iterator(text.begin(), text.end(), one), {});
  CHECK(n == 1);
}

TEST_CASE("gateway requests are counted by route pattern and status class", "[metrics]") {
  gateway::record_request("GET", "/api/v1/jobs/{id}", 404, 0.003);
  gateway::record_request("BREW", "", 200, 0.001);
  gateway::set_event_streams(3);
  auto text = metrics::scrape_text();
  CHECK(
      text.find(
          R"(reelfarm_http_requests_total{method="GET",route="/api/v1/jobs/{id}",status_class="4xx"} 1)") !=
      std::string::npos);
  // A made-up method and an empty route cannot grow the label space.
  CHECK(text.find(R"(method="OTHER",route="unmatched",status_class="2xx")") != std::string::npos);
  CHECK(text.find("method=\"BREW\"") == std::string::npos);
  CHECK(has_line(
      text,
      R"(reelfarm_http_request_duration_seconds_bucket{method="GET",route="/api/v1/jobs/{id}",le="0.005"} 1)"));
  CHECK(has_line(text, "reelfarm_http_event_streams 3"));
}

TEST_CASE("nvidia-smi output is parsed strictly", "[metrics]") {
  int rejected = 0;
  auto gpus = farm::parse_gpu_samples(
      "0, 37, 1024, 8192\n"
      "1, [N/A], 10, 20\n"
      "2, 101, 1, 2\n"
      "3, 50, 30, 20\n"
      "4, 5, 1, 2, 9\n"
      "garbage\n"
      "5, 100, 0, 81920\r\n",
      &rejected);
  REQUIRE(gpus.size() == 2);
  CHECK(gpus[0].index == 0);
  CHECK(gpus[0].utilization_ratio == Approx(0.37));
  CHECK(gpus[0].memory_used_bytes == 1024ull * 1024 * 1024);
  CHECK(gpus[0].memory_total_bytes == 8192ull * 1024 * 1024);
  CHECK(gpus[1].index == 5);
  CHECK(rejected == 5);
  CHECK(farm::parse_gpu_samples("").empty());
}

TEST_CASE("node metrics carry the node id and drop vanished GPUs", "[metrics]") {
  farm::node_metrics m("node-test-1", 2, false);
  m.set_slots_used(1);
  m.lease_finished("animatic", "done", 2.5);
  m.apply_gpu_samples({{0, 0.5, 1, 2}, {1, 0.25, 3, 4}});
  m.apply_gpu_samples({{0, 0.5, 1, 2}});
  auto text = metrics::scrape_text();
  CHECK(has_line(text, R"(reelfarm_node_slots{node="node-test-1",state="used"} 1)"));
  CHECK(has_line(text, R"(reelfarm_node_slots{node="node-test-1",state="free"} 1)"));
  CHECK(has_line(text, R"(reelfarm_node_shots_total{node="node-test-1",result="done"} 1)"));
  CHECK(has_line(text, R"(reelfarm_node_gpu_utilization_ratio{gpu="0",node="node-test-1"} 0.5)"));
  CHECK_FALSE(has_line(text, R"(reelfarm_node_gpu_utilization_ratio{gpu="1",node="node-test-1"})"));
  CHECK(has_line(text, R"(reelfarm_node_gpus{node="node-test-1"} 1)"));
}

TEST_CASE("credits are counted by plan and replays are not counted twice", "[metrics]") {
  ledger_metrics::declare_plans(plan_catalog::defaults());
  ledger_entry e;
  e.kind = credit_kind::deduction;
  e.amount = 7;
  ledger_metrics::count_movement(e, "pro");
  e.replayed = true;
  ledger_metrics::count_movement(e, "pro");
  ledger_metrics::audit_finished(0);
  auto text = metrics::scrape_text();
  CHECK(has_line(text, R"(reelfarm_credits_charged_total{plan="pro"} 7)"));
  CHECK(has_line(text, R"(reelfarm_credits_refunded_total{plan="free"} 0)"));
  CHECK(has_line(text, "reelfarm_ledger_audit_problems 0"));
}

TEST_CASE("every exported name follows the conventions", "[metrics]") {
  // Each test case runs in a process of its own (catch_discover_tests):
  // register the families of every module here rather than rely on the
  // cases before.
  metrics::register_build_info("9.9.9");
  gateway::record_request("GET", "/api/v1/healthz", 200, 0.001);
  gateway::set_event_streams(0);
  farm::node_metrics node("node-names-1", 1, false);
  ledger_metrics::declare_plans(plan_catalog::defaults());
  ledger_metrics::audit_finished(0);
  auto text = metrics::scrape_text();
  std::istringstream in(text);
  std::set<std::string> names;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("# TYPE ", 0) != 0)
      continue;
    std::istringstream fields(line.substr(7));
    std::string name, type;
    fields >> name >> type;
    names.insert(name);
    INFO(name);
    CHECK(name.rfind("reelfarm_", 0) == 0);
    CHECK(name.find("reelfarm_", 1) == std::string::npos);
    bool total = name.size() > 6 && name.ends_with("_total");
    CHECK(total == (type == "counter"));
    if (type == "histogram") {
      CHECK(name.ends_with("_seconds"));
    }
    CHECK(name.find("_ms") == std::string::npos);
    CHECK(name.find("milliseconds") == std::string::npos);
  }
  CHECK(names.size() > 15);
  // No label value looks like an email address.
  CHECK_FALSE(std::regex_search(text, std::regex(R"(="[^"]*@[^"]*")")));
}
