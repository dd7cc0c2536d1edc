// Render jobs through the actors against the test PostgreSQL, with an
// in-process coordinator and in-process node agents (threads): the full
// path except process boundaries, which render_e2e_test.cpp covers.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "reelfarm/actors/render_service.hpp"
#include "reelfarm/common/net.hpp"
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

constexpr const char* two_scenes = R"(Title: Test Film

INT. KITCHEN - DAY

ANNA stirs a pot.

ANNA
It is ready.

EXT. GARDEN - NIGHT

Bob waters the roses.

BOB
They smell of summer.
)";

constexpr const char* tiny = R"({"resolution":"160x90","fps":8})";

/// A database, a coordinator and `nodes` node agents running `backend`.
struct farm_env {
  testing::scratch_database db;
  testing::temp_dir dir;
  pg_pool pool{db.dsn(), 4};
  credit_ledger ledger{pool, plan_catalog::defaults()};
  job_repository jobs{pool};
  std::unique_ptr<farm::coordinator> coordinator;
  std::atomic<bool> stop{false};
  std::thread coordinator_thread;
  std::vector<std::thread> nodes;
  std::unique_ptr<actors::render_service> service;

  explicit farm_env(const std::string& backend = "animatic", int node_count = 1,
                    std::function<void(const std::string&, int)> fault = {}) {
    farm::coordinator_options co;
    co.bind = "tcp://127.0.0.1:*";  // the OS picks the port: never probed
    co.timing.heartbeat = 200ms;
    co.timing.ttl = 1000ms;
    co.timing.cancel_resend = 300ms;
    auto c = farm::coordinator::create(co);
    REQUIRE(c);
    coordinator = std::move(c).value();
    coordinator_thread = std::thread([this] { coordinator->run([this] { return stop.load(); }); });
    for (int i = 0; i < node_count; ++i) {
      farm::node_agent_options no;
      no.join = coordinator->endpoint();
      no.token = coordinator->create_join_token().value();
      no.backends = {backend};
      no.data_dir = dir.path() / ("node-" + std::to_string(i));
      no.media_dir = media();
      nodes.emplace_back([this, no] { farm::run_node_agent(no, [this] { return stop.load(); }); });
    }
    actors::render_service_options ro{context(), coordinator.get(),
                                      testing::test_services().redis_url};
    ro.shot_fault = std::move(fault);
    ro.shot_timeout = 15s;
    auto s = actors::render_service::create(std::move(ro));
    REQUIRE(s);
    service = std::move(s).value();
  }

  ~farm_env() {
    service.reset();
    stop = true;
    for (auto& n : nodes) {
      n.join();
    }
    coordinator_thread.join();
  }

  std::filesystem::path media() const { return dir.path() / "media"; }
  actors::job_context context() { return {&jobs, plan_catalog::defaults(), {}, media()}; }

  std::string user(const std::string& plan) {
    account_repository accounts(pool, plan_catalog::defaults(), password_cost{1, 8 * 1024});
    static int n = 0;
    auto u =
        accounts.create({"user" + std::to_string(++n) + "@test.io", "pw-123456", "T", "creator"});
    REQUIRE(u);
    if (plan != "free") {
      REQUIRE(ledger.change_plan(u->id, plan, "to-" + plan));
    }
    return u->id;
  }

  job_record job(const std::string& user_id, const std::string& script = two_scenes) {
    auto project = jobs.create_project(user_id, "Test Film", script, tiny);
    REQUIRE(project);
    auto j = jobs.create(user_id, *project, "render", tiny);
    REQUIRE(j);
    return *j;
  }

  actors::job_view wait(const std::string& job_id, std::chrono::seconds limit = 60s) {
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

  void check_ledger() {
    auto audit = ledger.audit();
    REQUIRE(audit);
    for (const auto& p : audit->problems) {
      UNSCOPED_INFO(p);
    }
    CHECK(audit->consistent());
  }
};

}  // namespace

TEST_CASE("a two-scene screenplay renders, is charged once and completes", "[actors]") {
  farm_env env("animatic", 2);
  auto user = env.user("pro");
  auto before = *env.ledger.balance(user);
  auto job = env.job(user);
  REQUIRE(env.service->run(job.id));
  auto v = env.wait(job.id);
  INFO(v.error);
  REQUIRE(v.status == "complete");
  CHECK(v.percent == 100);
  auto stored = env.jobs.get(job.id);
  REQUIRE(stored);
  CHECK(stored->status == "complete");
  CHECK(stored->progress == 100);
  CHECK(stored->cost_credits == 3);
  CHECK(*env.ledger.balance(user) == before - 3);
  CHECK(*env.ledger.charge_state(job.id) == job_charge_state::charged);
  auto shots = env.jobs.shots(job.id);
  REQUIRE(shots);
  for (const auto& s : *shots) {
    CHECK(s.status == "done");
    CHECK(s.checksum.starts_with("sha256:"));
  }
  pqxx::connection conn(env.db.dsn());
  pqxx::work tx(conn);
  auto row = tx.exec_params1(
      "SELECT status, video_url, thumbnail_url, subtitle_urls->>'srt', video_duration"
      " FROM projects WHERE id = $1::uuid",
      job.project_id);
  CHECK(row[0].as<std::string>() == "complete");
  CHECK(std::filesystem::exists(env.media() / row[1].as<std::string>()));
  CHECK(std::filesystem::exists(env.media() / row[2].as<std::string>()));
  CHECK(std::filesystem::exists(env.media() / row[3].as<std::string>()));
  CHECK(row[1].as<std::string>().find("/final/film.mp4") != std::string::npos);
  CHECK(row[4].as<double>() > 5.0);
  env.check_ledger();
}

TEST_CASE("a crashing shot actor is restarted by its scene and the film completes", "[actors]") {
  std::atomic<int> crashes{0};
  farm_env env("animatic", 1, [&](const std::string& shot, int incarnation) {
    if (shot == "sc1-sh2" && incarnation < 2) {
      ++crashes;
      throw std::runtime_error("injected crash");
    }
  });
  auto job = env.job(env.user("pro"));
  REQUIRE(env.service->run(job.id));
  auto v = env.wait(job.id, 30s);
  INFO(v.error);
  CHECK(v.status == "complete");
  CHECK(crashes == 2);
  env.check_ledger();
}

TEST_CASE("a job cancelled before start is never charged", "[actors]") {
  farm_env env;
  auto user = env.user("pro");
  auto before = *env.ledger.balance(user);
  auto job = env.job(user);
  auto outcome = env.service->cancel(job.id);
  REQUIRE(outcome);
  CHECK(*outcome == cancel_outcome::nothing_charged);
  REQUIRE(env.service->run(job.id));
  auto v = env.wait(job.id);
  CHECK(v.status == "cancelled");
  CHECK(*env.ledger.balance(user) == before);
  CHECK(*env.ledger.charge_state(job.id) == job_charge_state::cancelled_before_start);
  env.check_ledger();
}

TEST_CASE("a job cancelled while rendering keeps its charge", "[actors]") {
  farm_env env;
  auto user = env.user("pro");
  auto before = *env.ledger.balance(user);
  auto job = env.job(user);
  REQUIRE(env.service->run(job.id));
  for (int i = 0; i < 200; ++i) {
    auto v = env.service->view(job.id);
    if (v && v->status == "processing" && v->shots_total > 0) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  auto outcome = env.service->cancel(job.id);
  REQUIRE(outcome);
  CHECK(*outcome == cancel_outcome::charge_kept);
  auto v = env.wait(job.id);
  CHECK(v.status == "cancelled");
  CHECK(*env.ledger.balance(user) == before - 3);
  CHECK(env.jobs.get(job.id)->status == "cancelled");
  env.check_ledger();
}

TEST_CASE("a film longer than the plan allows fails before any charge", "[actors]") {
  farm_env env;
  auto user = env.user("free");
  std::string script = "INT. HALL - DAY\n\n";
  for (int i = 0; i < 40; ++i) {
    script += "The clock ticks on and on while nobody in the hall says a single word at all.\n\n";
  }
  auto job = env.job(user, script);
  REQUIRE(env.service->run(job.id));
  auto v = env.wait(job.id);
  CHECK(v.status == "failed");
  CHECK(v.error.find("Free") != std::string::npos);
  CHECK(*env.ledger.charge_state(job.id) == job_charge_state::not_charged);
  env.check_ledger();
}

TEST_CASE("a backend that always fails: job failed, refunded exactly once", "[actors]") {
  farm_env env("animatic=exec:/bin/false", 1);
  auto user = env.user("pro");
  auto before = *env.ledger.balance(user);
  auto job = env.job(user);
  REQUIRE(env.service->run(job.id));
  auto v = env.wait(job.id, 90s);
  CHECK(v.status == "failed");
  CHECK(*env.ledger.charge_state(job.id) == job_charge_state::refunded);
  CHECK(*env.ledger.balance(user) == before);
  // Failing again (a resumed supervisor) refunds nothing more.
  CHECK(env.jobs.fail(job.id, "again")->status == "failed");
  CHECK(*env.ledger.balance(user) == before);
  CHECK(env.jobs.get(job.id)->error.find("failed") != std::string::npos);
  env.check_ledger();
}

TEST_CASE("regenerate re-renders and charges only the shots that changed", "[actors]") {
  farm_env env("animatic", 2);
  auto user = env.user("pro");
  auto first = env.job(user);
  REQUIRE(env.service->run(first.id));
  REQUIRE(env.wait(first.id).status == "complete");
  auto balance = *env.ledger.balance(user);

  // Same script: everything is reused, nothing is charged.
  auto ctx = env.context();
  auto again = actors::regenerate(ctx, user, first.project_id, tiny);
  REQUIRE(again);
  REQUIRE(env.service->run(again->id));
  auto v = env.wait(again->id);
  REQUIRE(v.status == "complete");
  CHECK(v.cost_credits == 0);
  CHECK(*env.ledger.balance(user) == balance);
  auto shots = env.jobs.shots(again->id);
  REQUIRE(shots);
  for (const auto& s : *shots) {
    CHECK(s.status == "reused");
  }

  // One line edited: one shot renders, the rest are reused.
  {
    pqxx::connection conn(env.db.dsn());
    pqxx::work tx(conn);
    tx.exec_params(
        "UPDATE projects SET script = replace(script, 'waters', 'prunes')"
        " WHERE id = $1::uuid",
        first.project_id);
    tx.commit();
  }
  auto third = actors::regenerate(ctx, user, first.project_id, tiny);
  REQUIRE(third);
  REQUIRE(env.service->run(third->id));
  REQUIRE(env.wait(third->id).status == "complete");
  int rendered = 0;
  auto third_shots = env.jobs.shots(third->id);
  REQUIRE(third_shots);
  for (const auto& s : *third_shots) {
    rendered += s.status == "done" ? 1 : 0;
  }
  CHECK(rendered == 1);
  CHECK(*env.ledger.balance(user) == balance - 3);
  env.check_ledger();
}

TEST_CASE("a restarted service resumes a processing job without charging again", "[actors]") {
  auto env = std::make_unique<farm_env>();
  auto user = env->user("pro");
  auto before = *env->ledger.balance(user);
  auto job = env->job(user);
  REQUIRE(env->service->run(job.id));
  for (int i = 0; i < 600; ++i) {
    auto v = env->service->view(job.id);
    if (v && v->shots_done >= 1) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  // The service (supervisor and actors) goes away mid-render, as in a crash.
  env->service.reset();
  CHECK(env->jobs.get(job.id)->status == "processing");
  int done_before = 0;
  auto shots_before = env->jobs.shots(job.id);
  REQUIRE(shots_before);
  for (const auto& s : *shots_before) {
    done_before += s.has_segment() ? 1 : 0;
  }
  auto s = actors::render_service::create({env->context(), env->coordinator.get(), ""});
  REQUIRE(s);
  env->service = std::move(s).value();
  auto resumed = env->service->resume_all();
  REQUIRE(resumed);
  CHECK(*resumed == 1);
  auto v = env->wait(job.id);
  CHECK(v.status == "complete");
  CHECK(*env->ledger.balance(user) == before - 3);
  CHECK(done_before >= 1);
  env->check_ledger();
}
