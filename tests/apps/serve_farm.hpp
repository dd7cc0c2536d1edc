#pragma once

// `reelfarm serve` and two `reelfarm node` processes on ports the OS picks, in a
// folder of their own, for end-to-end tests of the API and its clients.
// Everything is stopped (SIGTERM, then SIGKILL) when the object goes away,
// also when the test fails.

#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "reelfarm/common/process.hpp"
#include "reelfarm/testing/join_token.hpp"
#include "run_reelfarm.hpp"

namespace reelfarm::testing {

/// A short two-scene screenplay: about 18 s of film, 3 credits.
inline constexpr const char* short_film = R"(Title: The Keeper
Author: Test Suite

INT. LIGHTHOUSE - NIGHT

The lamp turns. MARA climbs the last steps.

MARA
Someone has to keep it lit.

EXT. CLIFF - DAWN

Waves break below. TOMAS waits by the rail.

TOMAS
You stayed all night again.
)";

class serve_farm {
 public:
  /// Starts serve (with `settings` as extra `--set` values) and `nodes` nodes.
  explicit serve_farm(const std::vector<std::string>& settings = {}, int nodes = 2) {
    process_options p;
    p.argv = {REELFARM_BINARY,
              "--data-dir",
              data.string(),
              "--set",
              "gateway.port=0",
              "--set",
              "farm.bind=tcp://127.0.0.1:*"};  // ports the OS picks, read back below
    for (const auto& s : settings) {
      p.argv.insert(p.argv.end(), {"--set", s});
    }
    p.argv.push_back("serve");
    p.output_file = (dir.path() / "serve.log").string();
    auto child = child_process::spawn(p);
    REQUIRE(child);
    serve = std::move(child).value();
    wait_until_ready();
    base = origin + "/api/v1";
    for (int i = 0; i < nodes; ++i) {
      add_node();
    }
  }

  ~serve_farm() {
    using namespace std::chrono_literals;
    for (auto& n : node_processes) {
      n.signal(SIGTERM);
    }
    serve.signal(SIGTERM);
    for (auto& n : node_processes) {
      if (!n.wait_for(10s)) {
        n.signal(SIGKILL);
      }
    }
    if (!serve.wait_for(60s)) {
      serve.signal(SIGKILL);
    }
  }

  serve_farm(const serve_farm&) = delete;
  serve_farm& operator=(const serve_farm&) = delete;

  /// Starts one more render node that joins the coordinator.
  void add_node() {
    auto index = node_processes.size();
    auto node_dir = dir.path() / ("node-" + std::to_string(index));
    std::filesystem::create_directories(node_dir);
    process_options n;
    n.extra_environment = {"REELFARM_JOIN_TOKEN=" +
                           join_token_from_ctl(REELFARM_BINARY, data, farm_endpoint)};
    n.argv = {
        REELFARM_BINARY, "--log-level",    "warn",     "node",        "--join",
        farm_endpoint,   "--backend",      "animatic", "--media-dir", (data / "media").string(),
        "--node-dir",    node_dir.string()};
    n.output_file = (node_dir / "node.log").string();
    auto node = child_process::spawn(n);
    REQUIRE(node);
    node_processes.push_back(std::move(node).value());
  }

  /// What serve printed and logged so far.
  std::string log() const {
    auto text = read_file(dir.path() / "serve.log");
    return text ? *text : std::string();
  }

  /// The embedded PostgreSQL's DSN (from the data folder's services.json).
  std::string dsn() const {
    auto state = nlohmann::json::parse(read_file(data / "run" / "services.json").value());
    return state["postgres"]["dsn"].get<std::string>();
  }

  temp_dir dir;
  std::filesystem::path data = dir.path() / "data";
  std::string farm_endpoint;  ///< tcp://127.0.0.1:PORT
  std::string origin;         ///< http://127.0.0.1:PORT
  std::string base;           ///< origin + "/api/v1"
  child_process serve;
  std::vector<child_process> node_processes;

 private:
  // The gateway's and the coordinator's bound addresses from serve's status
  // lines, once it says it is ready.
  void wait_until_ready() {
    using namespace std::chrono_literals;
    static const std::regex gateway_line("gateway +(http://127\\.0\\.0\\.1:[0-9]+)/api/v1");
    static const std::regex farm_line("coordinator +(tcp://127\\.0\\.0\\.1:[0-9]+)");
    for (int i = 0; i < 1200; ++i) {
      std::smatch gateway;
      std::smatch farm;
      auto text = log();
      if (text.find("msg=\"ready") != std::string::npos &&
          std::regex_search(text, gateway, gateway_line) &&
          std::regex_search(text, farm, farm_line)) {
        origin = gateway[1];
        farm_endpoint = farm[1];
        return;
      }
      REQUIRE(serve.running());
      std::this_thread::sleep_for(100ms);
    }
    FAIL("serve did not become ready: " << log());
  }
};

}  // namespace reelfarm::testing
