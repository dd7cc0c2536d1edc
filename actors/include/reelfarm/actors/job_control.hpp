#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "reelfarm/actors/media_layout.hpp"
#include "reelfarm/actors/shot_plan.hpp"
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
  generation_prices prices;         ///< what a provider shot costs
};

/// A queued job, planned: its shots (reused ones already marked), references
/// and what starting it costs.
struct prepared_job {
  job_record job;
  std::vector<shot_record> shots;
  std::vector<reference_record> references;
  /// For the shots that must render, and for those whose segment is reused
  /// from a job that did not keep its charge (see prepare_job).
  std::int64_t cost_credits = 0;
  /// What cost_credits is made of.
  render_price price;
  std::chrono::milliseconds duration{0};
};

/// Parses and plans the job's screenplay, checks the film against the user's
/// plan's maximum length, maps shots to render specs, reuses the segment of
/// every shot whose input hash matches a finished shot of the same project
/// (with its segment still on disk), and prices the job. A reused shot is free
/// ("reused") when the job that paid for it kept its charge (completed, or
/// cancelled after start); otherwise (its job failed and was refunded) this
/// job pays for it as if it rendered it: it is marked "done", with
/// `reused_from` naming where the file came from, and the next job reuses it
/// for free. So every delivered shot is paid for once.
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
/// media folder) and duration to store. A stored artifact path that could
/// lead out of the media folder (see media_file) fails the assembly.
result<film_record> assemble_job_film(const job_context& ctx, const job_record& job,
                                      const std::vector<shot_record>& shots);

// --- results from render nodes ---------------------------------------------
// Nodes are untrusted (issue #19): what a `done` frame names is checked here
// before the render actors accept it, and stored paths are checked again
// wherever they are opened.

/// `rel` (a path relative to the media folder, as nodes report and rows store
/// them) resolved under `media_dir`, when it cannot lead out of it: not empty,
/// not absolute, no `.`, `..` or empty part, and no part below the media
/// folder a symbolic link (nodes write into the shared folder and could plant
/// one). shot_failed otherwise. The file need not exist.
result<std::filesystem::path> media_file(const std::filesystem::path& media_dir,
                                         const std::string& rel);

/// The "output" a lease spec (shot_record::spec_json) offers its node; empty
/// when the spec has none.
std::string lease_output(const std::string& lease_spec_json);

/// Whether a node's report that it rendered a shot can be accepted:
/// `reported_artifact` is exactly `offered_output`, which lies in the job's
/// video-clips folder (`layout`), and a regular file is there whose SHA-256
/// is `reported_checksum` ("sha256:" + 64 lowercase hex). shot_failed
/// otherwise, saying why (paths and checksums, never what the file holds).
result<void> check_artifact(const media_layout& layout, const std::string& offered_output,
                            const std::string& reported_artifact,
                            const std::string& reported_checksum);

/// The segment sidecar a node wrote next to an accepted artifact
/// (artifact + ".json"): a regular file under the rules of media_file, at
/// most 1 MiB, that parses as a segment. shot_failed otherwise.
result<std::string> read_segment_sidecar(const std::filesystem::path& media_dir,
                                         const std::string& artifact);

}  // namespace reelfarm::actors
