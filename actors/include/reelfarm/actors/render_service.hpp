#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "reelfarm/actors/job_control.hpp"
#include "reelfarm/common/result.hpp"

namespace reelfarm::farm {
class coordinator;
}

namespace reelfarm::actors {

/// What a follower sees of a job (also published on Redis).
struct job_view {
  std::string job_id;
  std::string project_id;  ///< known once the job is loaded
  std::string user_id;     ///< the owner (never published: followers are authorised by project)
  std::string status = "queued";  ///< queued, processing, complete, failed, cancelled
  int percent = 0;
  std::string step = "queued";
  int shots_done = 0;
  int shots_total = 0;
  std::int64_t ms_done = 0;   ///< planned film time of the shots done
  std::int64_t ms_total = 0;  ///< planned film time of all shots
  std::int64_t cost_credits = 0;
  std::string error;

  bool finished() const noexcept {
    return status == "complete" || status == "failed" || status == "cancelled";
  }
};

/// How the render service runs.
struct render_service_options {
  job_context jobs;
  farm::coordinator* coordinator = nullptr;  ///< must outlive the service
  std::string redis_url;                     ///< progress is published here; empty: not
  int shot_restarts = 3;                     ///< restarts of a crashing shot actor
  /// A shot with no outcome after this long fails (the farm retries failed
  /// renders itself, but a shot whose every node is blocklisted for the job
  /// would otherwise wait for ever).
  std::chrono::milliseconds shot_timeout{std::chrono::minutes(15)};
  /// Tests: called when a shot actor starts (shot id, incarnation from 0);
  /// throwing makes that actor crash, as a bug would.
  std::function<void(const std::string&, int)> shot_fault;
};

/// The CAF actor system of render jobs: one project supervisor per job,
/// scene actors under it, shot actors under those (docs/actors.md). This
/// header keeps CAF out of its users. Thread-safe.
class render_service {
 public:
  /// Starts the actor system and the bridge to the coordinator.
  static result<std::unique_ptr<render_service>> create(render_service_options options);
  /// Stops every supervisor without touching their jobs (they resume later).
  ~render_service();
  render_service(const render_service&) = delete;
  render_service& operator=(const render_service&) = delete;

  /// Runs (or resumes) the job: plans, charges and renders a queued one,
  /// continues a processing one without charging again.
  result<void> run(const std::string& job_id);
  /// Resumes every queued or processing job in PostgreSQL; how many.
  result<int> resume_all();
  /// One pass of the dispatcher (`reelfarm serve` runs it a few times a
  /// second): starts every queued or processing job not running here (the
  /// gateway queues jobs in PostgreSQL) and stops every job running here
  /// that PostgreSQL says ended elsewhere (the gateway cancels there). How
  /// many jobs it started.
  result<int> sync_with_store();
  /// Cancels the job: stops its shots and records the cancel (see cancel_job).
  result<cancel_outcome> cancel(const std::string& job_id);
  /// The job's latest state as this service knows it; nullopt if unknown here.
  std::optional<job_view> view(const std::string& job_id) const;

  /// The implementation (CAF); not part of the interface.
  struct impl;

 private:
  explicit render_service(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace reelfarm::actors
