// A render node that reports a file it was not offered (issue #19), through
// the real coordinator, node agent and render actors against the test
// PostgreSQL: every such result is refused and logged, the shot goes back to
// the farm, and after the last refusal the job fails and is refunded.
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "reelfarm/actors/render_service.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/coordinator/coordinator.hpp"
#include "reelfarm/farm/node/node_agent.hpp"
#include "reelfarm/store/account_repository.hpp"
#include "reelfarm/store/credit_ledger.hpp"
#include "reelfarm/store/job_repository.hpp"
#include "reelfarm/testing/services.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace std::chrono_literals;

namespace {

constexpr const char* one_shot = "Title: One Room\n\nINT. ROOM - DAY\n\nA lamp flickers.\n";
constexpr const char* tiny = R"({"resolution":"160x90","fps":8})";

// What the hostile node writes; no log line may ever carry it.
constexpr const char* payload = "hostile-payload-bytes";

/// The lines logged while it lives (from any thread); stderr again after.
struct captured_log {
  std::mutex mutex;
  std::vector<std::string> lines;
  captured_log() {
    log::set_sink([this](std::string_view line) {
      std::lock_guard lock(mutex);
      lines.emplace_back(line);
    });
  }
  ~captured_log() { log::set_sink({}); }
  std::vector<std::string> matching(const std::string& text) {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& l : lines) {
      if (l.find(text) != std::string::npos) {
        out.push_back(l);
      }
    }
    return out;
  }
};

/// A coordinator, one node whose backend writes its result into its own
/// work folder (not the offered output) and reports that file with its
/// right checksum, and the render actors.
struct hostile_farm {
  testing::scratch_database db;
  testing::temp_dir dir;
  pg_pool pool{db.dsn(), 4};
  credit_ledger ledger{pool, plan_catalog::defaults()};
  job_repository jobs{pool};
  std::unique_ptr<farm::coordinator> coordinator;
  std::atomic<bool> stop{false};
  std::thread coordinator_thread;
  std::thread node;
  std::unique_ptr<actors::render_service> service;

  hostile_farm() {
    auto script = dir.path() / "elsewhere.sh";
    {
      std::ofstream out(script);
      out << "#!/bin/sh\n# argv: job.json, the node's output file in its work folder\n"
          << "printf '%s' '" << payload << "' > \"$2\"\n";
    }
    REQUIRE(::chmod(script.c_str(), 0755) == 0);

    farm::coordinator_options co;
    co.bind = "tcp://127.0.0.1:*";
    co.timing.heartbeat = 200ms;
    co.timing.ttl = 1000ms;
    auto c = farm::coordinator::create(co);
    REQUIRE(c);
    coordinator = std::move(c).value();
    coordinator_thread = std::thread([this] { coordinator->run([this] { return stop.load(); }); });
    farm::node_agent_options no;
    no.join = coordinator->endpoint();
    no.token = coordinator->create_join_token().value();
    no.backends = {"animatic=exec:" + script.string()};
    no.data_dir = dir.path() / "node";
    no.media_dir = media();
    node = std::thread([this, no] { farm::run_node_agent(no, [this] { return stop.load(); }); });
    actors::render_service_options ro{context(), coordinator.get(), ""};
    ro.shot_timeout = 30s;
    auto s = actors::render_service::create(std::move(ro));
    REQUIRE(s);
    service = std::move(s).value();
  }

  ~hostile_farm() {
    service.reset();
    stop = true;
    node.join();
    coordinator_thread.join();
  }

  std::filesystem::path media() const { return dir.path() / "media"; }
  actors::job_context context() { return {&jobs, plan_catalog::defaults(), {}, media()}; }

  actors::job_view wait(const std::string& job_id, std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      auto v = service->view(job_id);
      if (v && v->finished()) {
        return *v;
      }
      std::this_thread::sleep_for(50ms);
    }
    FAIL("job " << job_id << " did not finish in time");
    return {};
  }
};

}  // namespace

TEST_CASE("a node's result outside the offered output is refused, retried, then refunded",
          "[actors][artifact]") {
  captured_log log;  // outlives the farm's threads
  hostile_farm farm;
  account_repository accounts(farm.pool, plan_catalog::defaults(), password_cost{1, 8 * 1024});
  auto user = accounts.create({"hostile@test.io", "pw-123456", "T", "creator"});
  REQUIRE(user);
  REQUIRE(farm.ledger.grant(user->id, 30, "test credits", "test-grant"));
  auto before = *farm.ledger.balance(user->id);
  auto project = farm.jobs.create_project(user->id, "One Room", one_shot, tiny);
  REQUIRE(project);
  auto job = farm.jobs.create(user->id, *project, "render", tiny);
  REQUIRE(job);

  REQUIRE(farm.service->run(job->id));
  auto v = farm.wait(job->id, 90s);
  CHECK(v.status == "failed");
  // Whichever comes first ends the job: a shot refused 3 times, or the only
  // node blocklisted for the job after 3 refusals (each counts against it).
  CHECK_THAT(v.error, Catch::Contains("3 results refused") || Catch::Contains("blocklisted"));
  CHECK(*farm.ledger.charge_state(job->id) == job_charge_state::refunded);
  CHECK(*farm.ledger.balance(user->id) == before);

  // Nothing of what the node reported was accepted.
  auto shots = farm.jobs.shots(job->id);
  REQUIRE(shots);
  REQUIRE_FALSE(shots->empty());
  for (const auto& s : *shots) {
    INFO(s.shot_id);
    CHECK_FALSE(s.has_segment());
    CHECK(s.artifact.empty());
  }

  // Each refusal is logged with the node and the reason, never the bytes.
  auto refused = log.matching("msg=\"shot result refused\"");
  CHECK(refused.size() >= 3);
  for (const auto& line : refused) {
    CHECK_THAT(line, Catch::Contains(" node=") && Catch::Contains(" shot=") &&
                         Catch::Contains("not the output the lease offered"));
  }
  CHECK(log.matching(payload).empty());

  // Each refusal counted against the node, as a failed render does.
  std::promise<int> failures;
  farm.coordinator->post([&failures](farm::lease_manager& m) {
    int n = 0;
    for (const auto& node : m.nodes()) {
      n += node.failures;
    }
    failures.set_value(n);
  });
  CHECK(failures.get_future().get() >= 3);
}
