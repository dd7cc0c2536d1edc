// The README's "Using it" commands run as written, the way Python projects
// doctest their README: every `$rf ...` line of that block is read from
// README.md and run with the real binary on the embedded default. A line the
// test cannot classify fails it, so a new README example needs a way to run.
//
// What the test changes, and only this: `$rf` is the built binary; the data
// folder is a scratch one (REELFARM_EMBEDDED_DATA_DIR) with the gateway and
// the farm on ports the OS picks (REELFARM_GATEWAY_PORT=0,
// REELFARM_FARM_BIND=tcp://127.0.0.1:*), so the README's fixed addresses
// become the ones the running servers report: tcp://127.0.0.1:7700 is the
// coordinator's bound endpoint, --health-port 9465 binds port 0, and the
// media folders named in the README are the scratch data folder's. Commands
// run in a scratch folder holding the repository's examples/ and media/.
// The README's `export REELFARM_JOIN_TOKEN="$($rf ctl nodes token)"` is a
// shell line: the test runs that ctl command itself and gives its token to
// the node lines in the same variable.
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/testing/join_token.hpp"
#include "reelfarm/testing/log_watch.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// One `$rf ...` line of the README: its words after `$rf`.
struct example {
  std::string line;
  std::vector<std::string> words;
  std::string first() const { return words.empty() ? "" : words[0]; }
  bool has(const std::string& w) const {
    return std::find(words.begin(), words.end(), w) != words.end();
  }
};

std::vector<example> readme_examples() {
  auto readme = read_file(fs::path(REELFARM_SOURCE_DIR) / "README.md");
  REQUIRE(readme);
  auto section = readme->find("## Using it");
  REQUIRE(section != std::string::npos);
  auto open = readme->find("```sh\n", section);
  REQUIRE(open != std::string::npos);
  auto close = readme->find("```", open + 6);
  REQUIRE(close != std::string::npos);
  std::istringstream block(readme->substr(open + 6, close - open - 6));
  std::vector<example> out;
  for (std::string line; std::getline(block, line);) {
    auto text = line.substr(0, line.find('#'));  // the comments explain; they are not run
    std::istringstream words(text);
    std::string w;
    if (!(words >> w) || w != "$rf") {
      continue;  // `rf=...` and comment-only lines
    }
    example e{line, {}};
    while (words >> w) {
      e.words.push_back(w);
    }
    out.push_back(std::move(e));
  }
  return out;
}

class readme_run {
 public:
  readme_run() {
    fs::create_directories(data_);
    fs::create_symlink(fs::path(REELFARM_SOURCE_DIR) / "examples", work_ / "examples");
    fs::create_symlink(fs::path(REELFARM_SOURCE_DIR) / "media", work_ / "media");
    ::setenv("REELFARM_EMBEDDED_DATA_DIR", data_.c_str(), 1);
    ::setenv("REELFARM_GATEWAY_PORT", "0", 1);
    ::setenv("REELFARM_FARM_BIND", "tcp://127.0.0.1:*", 1);
    ::setenv("REELFARM_CREDENTIALS", (dir_.path() / "credentials.json").c_str(), 1);
  }

  // The README's words with its fixed addresses replaced (see the top).
  std::vector<std::string> argv_of(const example& e) const {
    std::vector<std::string> argv = {REELFARM_BINARY};
    for (std::size_t i = 0; i < e.words.size(); ++i) {
      const auto& w = e.words[i];
      if (w == "tcp://127.0.0.1:7700") {
        REQUIRE_FALSE(farm_.empty());  // a farm line runs only while a coordinator does
        argv.push_back(farm_);
      } else if (w.ends_with("reelfarm/media")) {
        argv.push_back((data_ / "media").string());
      } else if (i > 0 && e.words[i - 1] == "--health-port") {
        argv.push_back("127.0.0.1:0");
      } else if (w == "/tmp/film") {
        argv.push_back((dir_.path() / "shot-film").string());
      } else {
        argv.push_back(w);
      }
    }
    return argv;
  }

  child_process start(const example& e, const std::string& name) {
    process_options p;
    p.argv = argv_of(e);
    if (e.first() == "node") {
      p.extra_environment = {"REELFARM_JOIN_TOKEN=" +
                             testing::join_token_from_ctl(REELFARM_BINARY, data_, farm_)};
    }
    p.working_dir = work_.string();
    p.output_file = log_of(name).string();
    auto child = child_process::spawn(p);
    REQUIRE(child);
    return std::move(child).value();
  }

  fs::path log_of(const std::string& name) const { return dir_.path() / (name + ".log"); }

  std::string output(const std::string& name) const {
    auto text = read_file(log_of(name));
    return text ? *text : "";
  }

  // Runs a command to its end: it must exit 0.
  void run_to_end(const example& e, const std::string& name, std::chrono::seconds limit) {
    auto child = start(e, name);
    bool ended = child.wait_for(limit);
    if (!ended) {
      child.signal(SIGKILL);
      child.wait_for(5s);
    }
    INFO(e.line << "\n" << output(name));
    REQUIRE(ended);
    CHECK(child.exit_status() == 0);
  }

  // Starts a server, waits for `ready`, runs `while_up`, then stops it with
  // SIGTERM: it must stop cleanly (exit 0).
  void run_server(const example& e, const std::string& name, const std::string& ready,
                  const std::function<void(child_process&)>& while_up) {
    auto child = start(e, name);
    INFO(e.line);
    testing::wait_for_log_match(log_of(name), ready, 180s, [&] { return child.running(); });
    while_up(child);
    child.signal(SIGTERM);
    bool stopped = child.wait_for(60s);
    if (!stopped) {
      child.signal(SIGKILL);
      child.wait_for(5s);
    }
    INFO(output(name));
    REQUIRE(stopped);
    CHECK(child.exit_status() == 0);
  }

  void set_farm(const std::string& endpoint) {
    farm_ = endpoint;
    ::setenv("REELFARM_FARM_BIND", endpoint.empty() ? "tcp://127.0.0.1:*" : endpoint.c_str(), 1);
  }

  const fs::path& work() const { return work_; }

 private:
  testing::temp_dir dir_;
  fs::path data_ = dir_.path() / "data";
  fs::path work_ = dir_.path();
  std::string farm_;
};

}  // namespace

TEST_CASE("every command the README shows under 'Using it' works as written", "[readme][e2e]") {
  auto examples = readme_examples();
  REQUIRE(examples.size() >= 10);
  auto readme = read_file(fs::path(REELFARM_SOURCE_DIR) / "README.md");
  REQUIRE(readme);
  CHECK_THAT(*readme, Catch::Contains("export REELFARM_JOIN_TOKEN=\"$($rf ctl nodes token)\""));
  readme_run run;
  std::vector<const example*> farm_clients;  // run while `serve` is up
  std::vector<const example*> servers;
  std::map<std::string, int> seen;
  for (const auto& e : examples) {
    auto name = e.first() + "-" + std::to_string(++seen[e.first()]);
    if (e.first() == "node" || e.first() == "ctl") {
      farm_clients.push_back(&e);
    } else if ((e.first() == "serve" && !e.has("--check")) || e.first() == "coordinator") {
      servers.push_back(&e);
    } else if (e.first() == "--version" || e.first() == "plan" || e.first() == "config" ||
               e.first() == "bench" || e.first() == "render-shot" || e.first() == "render" ||
               e.first() == "serve") {
      run.run_to_end(e, name, 600s);
    } else {
      FAIL("the README shows a command this test does not know how to run: " << e.line);
    }
  }
  CHECK(fs::exists(run.work() / "film" / "film.mp4"));  // the main job made its film
  REQUIRE_FALSE(servers.empty());

  int node_runs = 0;
  for (const auto* server : servers) {
    auto name = server->first() + "-" + (server->has("--role") ? "role" : "all") +
                std::to_string(++seen["server"]);
    run.run_server(*server, name, R"(msg="?ready)", [&](child_process&) {
      bool farm_here = server->first() == "coordinator" ||
                       (server->first() == "serve" && !server->has("--role"));
      if (server->has("--health-port")) {
        auto port = testing::wait_for_log_match(run.log_of(name),
                                                R"(msg="health listener" port=(\d+))", 10s);
        CHECK(!port.empty());
      }
      if (!farm_here || server->first() != "serve" || node_runs > 0) {
        return;
      }
      // Render nodes join this serve, and operators list them.
      run.set_farm(testing::wait_for_log_match(run.log_of(name),
                                               R"(coordinator +(tcp://127\.0\.0\.1:\d+))", 10s));
      for (const auto* client : farm_clients) {
        if (client->first() != "node") {
          continue;
        }
        auto node_name = "node-" + std::to_string(++node_runs);
        auto node = run.start(*client, node_name);
        INFO(client->line << "\n" << run.output(node_name));
        testing::wait_for_log_match(run.log_of(node_name), R"(msg="?registered)", 60s,
                                    [&] { return node.running(); });
        for (const auto* ctl : farm_clients) {
          if (ctl->first() == "ctl") {
            auto ctl_name = "ctl-" + std::to_string(node_runs);
            run.run_to_end(*ctl, ctl_name, 60s);
            CHECK_THAT(run.output(ctl_name), Catch::Contains("alive"));
          }
        }
        node.signal(SIGTERM);
        REQUIRE(node.wait_for(30s));
        CHECK(node.exit_status() == 0);
      }
      run.set_farm("");
    });
  }
  CHECK(node_runs ==
        static_cast<int>(std::count_if(farm_clients.begin(), farm_clients.end(),
                                       [](const example* e) { return e->first() == "node"; })));
}
