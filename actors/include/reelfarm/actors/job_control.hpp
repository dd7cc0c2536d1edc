#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "reelfarm/common/config.hpp"
#include "reelfarm/common/result.hpp"
#include "reelfarm/store/job_repository.hpp"
#include "reelfarm/store/plan_catalog.hpp"

/// The job's state transitions as plain functions (no CAF): the supervisor
/// actor calls them, tests call them directly.
namespace reelfarm::actors {

/// What the job functions work with; all references must outlive the calls.
struct job_context {
  job_repository* jobs = nullptr;
  plan_catalog plans = plan_catalog::defaults();
  planner_settings planner;
  std::filesystem::path media_dir;  ///< the shared media folder nodes write into
};

/// A queued job, planned: its shots (reused ones already marked), references
/// and what starting it costs.
struct prepared_job {
  job_record job;
  std::vector<shot_record> shots;
  std::vector<reference_record> references;
  std::int64_t cost_credits = 0;  ///< only for shots that must render
  std::chrono::milliseconds duration{0};
};

/// Parses and plans the job's screenplay, checks the film against the user's
/// plan's maximum length, maps shots to render specs, marks shots whose input
/// hash matches a finished shot of the same project (with its segment still
/// on disk) as reused, and prices the rest.
result<prepared_job> prepare_job(const job_context& ctx, const job_record& job);

/// Charges and marks the job processing in one transaction (see
/// job_repository::start); a job already processing is returned unchanged.
result<job_record> start_job(const job_context& ctx, const prepared_job& prepared);

/// A new job for the project that re-renders only what changed: shots whose
/// input hash (spec + renderer) matches a finished shot are reused and not
/// charged again. `settings_json` as for the first render.
result<job_record> regenerate(const job_context& ctx, const std::string& user_id,
                              const std::string& project_id,
                              const std::string& settings_json = "{}");

/// Cancels the job in the database (before start: nothing charged; after:
/// no refund). Running renders are stopped by the render service.
result<cancel_outcome> cancel_job(const job_context& ctx, const std::string& job_id);

/// Assembles the film of a job whose shots all have segments: joins them per
/// scene and into final/film.mp4 by stream copy, places subtitles and the
/// thumbnail in their folders, and returns the URLs (paths relative to the
/// media folder) and duration to store.
result<film_record> assemble_job_film(const job_context& ctx, const job_record& job,
                                      const std::vector<shot_record>& shots);

}  // namespace reelfarm::actors
