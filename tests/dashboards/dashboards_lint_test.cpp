// The dashboards and alert rules as files: promtool accepts the scrape
// configuration and the rules; every dashboard has a stable uid, the
// instance/node variables, a description and queries on reelfarm_ metrics;
// every alert has the runbook annotations. (Whether the queries' metric names
// exist is checked against a real scrape in prometheus_e2e_test.cpp.)
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

const fs::path source = REELFARM_SOURCE_DIR;
const fs::path dashboards_dir = source / "dashboards" / "grafana" / "dashboards";
const fs::path rules_file = source / "deploy" / "prometheus" / "alerts.yml";

int run(const std::string& command) {
  int rc = std::system((command + " > /dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

TEST_CASE("promtool accepts the scrape configuration and the alert rules", "[dashboards]") {
  CHECK(run(std::string(REELFARM_PROMTOOL) + " check config '" +
            (source / "deploy" / "prometheus" / "prometheus.yml").string() + "'") == 0);
  CHECK(run(std::string(REELFARM_PROMTOOL) + " check rules '" + rules_file.string() + "'") == 0);
  // The check can fail: a broken expression is refused.
  auto broken = fs::temp_directory_path() / "reelfarm-broken-rules.yml";
  std::ofstream(broken)
      << "groups:\n- name: x\n  rules:\n  - alert: X\n    expr: sum(rate(x[5m])\n";
  CHECK(run(std::string(REELFARM_PROMTOOL) + " check rules '" + broken.string() + "'") != 0);
  fs::remove(broken);
}

TEST_CASE("dashboards have stable uids, variables and reelfarm queries", "[dashboards]") {
  std::set<std::string> uids;
  const std::set<std::string> expected = {"reelfarm-farm-overview", "reelfarm-render-nodes",
                                          "reelfarm-gateway", "reelfarm-credits",
                                          "reelfarm-integrations"};
  for (const auto& file : fs::directory_iterator(dashboards_dir)) {
    INFO(file.path());
    std::ifstream in(file.path());
    auto d = nlohmann::json::parse(in);
    std::string uid = d.at("uid");
    CHECK(uids.insert(uid).second);
    CHECK_FALSE(d.at("title").get<std::string>().empty());
    std::set<std::string> vars;
    for (const auto& v : d.at("templating").at("list"))
      vars.insert(v.at("name"));
    CHECK(vars.contains("instance"));
    if (uid == "reelfarm-render-nodes")
      CHECK(vars.contains("node"));
    int queries = 0;
    for (const auto& p : d.at("panels")) {
      if (p.at("type") == "row" || p.at("type") == "text")
        continue;
      INFO(p.at("title"));
      CHECK(p.contains("description"));
      CHECK(p.at("datasource").at("uid") == "reelfarm-prometheus");
      for (const auto& t : p.at("targets")) {
        std::string expr = t.at("expr");
        CHECK(expr.find("reelfarm_") != std::string::npos);
        // No YouTube metric exists yet (issue #11): none may be queried.
        CHECK(expr.find("reelfarm_youtube_") == std::string::npos);
        ++queries;
      }
    }
    CHECK(queries > 0);
  }
  CHECK(uids == expected);
}

TEST_CASE("every alert has a summary, a description and a runbook", "[dashboards]") {
  auto doc = YAML::LoadFile(rules_file.string());
  std::set<std::string> alerts;
  for (const auto& g : doc["groups"]) {
    for (const auto& r : g["rules"]) {
      auto name = r["alert"].as<std::string>();
      INFO(name);
      alerts.insert(name);
      for (const char* a : {"summary", "description", "runbook"}) {
        CHECK(r["annotations"][a].as<std::string>().size() > 20);
      }
      CHECK(r["labels"]["severity"]);
    }
  }
  for (const char* a :
       {"ReelfarmNodeLost", "ReelfarmQueueBacklogGrowing", "ReelfarmTimeToBookP99High",
        "ReelfarmShotFailureRateHigh", "ReelfarmOutboxLagHigh", "ReelfarmSalesforceApiNearLimit",
        "ReelfarmLedgerInvariantFailing"}) {
    CHECK(alerts.contains(a));
  }
}
