// Which finished shots a new render may reuse for free (issue #19): only
// those whose charge stands, read from the ledger by find_reusable.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "ledger_fixture.hpp"
#include "reelfarm/store/job_repository.hpp"

using namespace reelfarm;

namespace {

/// One user with credits and one project, whose jobs run one after another.
struct reuse_env : testing::ledger_env {
  job_repository jobs{pool};
  std::string owner = user("reuse");
  std::string project;

  reuse_env() {
    REQUIRE(ledger.grant(owner, 100, "test credits", "test-grant"));
    auto p = jobs.create_project(owner, "Film", "INT. ROOM - DAY\n\nA room.\n", "{}");
    REQUIRE(p);
    project = *p;
  }

  /// A shot still to render.
  static shot_record to_render(const std::string& shot_id, const std::string& hash) {
    shot_record s;
    s.shot_id = shot_id;
    s.scene_id = "sc1";
    s.input_hash = hash;
    s.duration_ms = 1000;
    return s;
  }

  /// A shot taking `prior`'s file: "reused" (free) or "done" (paid for again).
  static shot_record taking(const std::string& shot_id, const reusable_shot& prior,
                            const std::string& status) {
    auto s = prior.shot;
    s.shot_id = shot_id;
    s.status = status;
    return s;
  }

  /// A job of the project: starts with `shots` (positions in order) charged
  /// `cost`, renders those still queued, and ends as `end` says.
  job_record run(std::vector<shot_record> shots, std::int64_t cost, const std::string& end) {
    auto job = jobs.create(owner, project, "render", "{}");
    REQUIRE(job);
    for (std::size_t i = 0; i < shots.size(); ++i) {
      shots[i].position = static_cast<int>(i);
    }
    REQUIRE(jobs.start(job->id, shots, {}, cost, "test render"));
    for (auto& s : shots) {
      if (s.status == "queued") {
        s.status = "done";
        s.artifact = "users/" + owner + "/projects/" + project + "/video-clips/" + s.shot_id + "-" +
                     job->id.substr(0, 8) + ".mp4";
        s.checksum = "sha256:" + std::string(64, 'a');
        s.segment_json = R"({"frames":8})";
        s.node_id = "node-1";
        REQUIRE(jobs.update_shot(job->id, s));
      }
    }
    if (end == "complete") {
      REQUIRE(jobs.complete(job->id, film_record{}));
    } else if (end == "failed") {
      REQUIRE(jobs.fail(job->id, "a node failed it"));
    } else {
      REQUIRE(*jobs.cancel(job->id) == cancel_outcome::charge_kept);
    }
    return *job;
  }

  reusable_shot find(const std::string& hash) {
    auto found = jobs.find_reusable(project, hash);
    REQUIRE(found);
    REQUIRE(found->has_value());
    return **found;
  }
};

}  // namespace

TEST_CASE("a refunded job's shots can be reused but are not free, a paid job's are",
          "[jobs][reuse]") {
  reuse_env env;

  auto refunded = env.run({reuse_env::to_render("sc1-sh1", "hash-1")}, 3, "failed");
  REQUIRE(*env.ledger.charge_state(refunded.id) == job_charge_state::refunded);
  auto from_refunded = env.find("hash-1");
  CHECK_FALSE(from_refunded.paid);
  CHECK(from_refunded.shot.reused_from == refunded.id);
  CHECK(from_refunded.shot.artifact.ends_with(".mp4"));  // the file is still offered

  auto completed = env.run({reuse_env::to_render("sc1-sh2", "hash-2")}, 3, "complete");
  REQUIRE(*env.ledger.charge_state(completed.id) == job_charge_state::charged);
  auto from_completed = env.find("hash-2");
  CHECK(from_completed.paid);
  CHECK(from_completed.shot.reused_from == completed.id);

  auto cancelled = env.run({reuse_env::to_render("sc1-sh3", "hash-3")}, 3, "cancelled");
  REQUIRE(*env.ledger.charge_state(cancelled.id) == job_charge_state::cancelled_after_start);
  auto from_cancelled = env.find("hash-3");
  CHECK(from_cancelled.paid);
  CHECK(from_cancelled.shot.reused_from == cancelled.id);

  auto none = env.jobs.find_reusable(env.project, "hash-never-rendered");
  REQUIRE(none);
  CHECK_FALSE(none->has_value());
}

TEST_CASE("a shot is free to reuse exactly while one job's charge for it stands", "[jobs][reuse]") {
  reuse_env env;
  auto first = env.run({reuse_env::to_render("sc1-sh1", "hash-1")}, 3, "failed");

  // A free reuse of the refunded render (a row written before the rule)
  // does not make it paid: its payer is still the refunded job.
  auto unpaid = env.find("hash-1");
  REQUIRE_FALSE(unpaid.paid);
  env.run(
      {reuse_env::taking("sc1-sh1", unpaid, "reused"), reuse_env::to_render("sc1-sh9", "hash-9")},
      3, "complete");
  auto still_unpaid = env.find("hash-1");
  CHECK_FALSE(still_unpaid.paid);
  CHECK(still_unpaid.shot.reused_from == first.id);

  // A job pays for the refunded render's file as if it rendered it
  // ("done", the file from the first job) and completes: free from now on.
  auto payer = env.run({reuse_env::taking("sc1-sh1", still_unpaid, "done")}, 3, "complete");
  auto paid = env.find("hash-1");
  CHECK(paid.paid);
  CHECK(paid.shot.reused_from == payer.id);
  CHECK(paid.shot.artifact == unpaid.shot.artifact);

  // Reused for free by a job that then fails and is refunded: the payer's
  // charge still covers the shot.
  auto failed_reuser = env.run(
      {reuse_env::taking("sc1-sh1", paid, "reused"), reuse_env::to_render("sc1-sh2", "hash-2")}, 3,
      "failed");
  REQUIRE(*env.ledger.charge_state(failed_reuser.id) == job_charge_state::refunded);
  auto after_reuse = env.find("hash-1");
  CHECK(after_reuse.paid);
  CHECK(after_reuse.shot.reused_from == payer.id);

  // A newer render of the same inputs that was refunded does not hide the
  // paid one.
  env.run({reuse_env::to_render("sc1-sh1", "hash-1")}, 3, "failed");
  auto preferred = env.find("hash-1");
  CHECK(preferred.paid);
  CHECK(preferred.shot.reused_from == payer.id);
}
