#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/credit_ledger.hpp"
#include "reelfarm/store/pg_pool.hpp"

namespace reelfarm {

/// A render job as stored (ai_jobs, migration 0006).
struct job_record {
  std::string id;
  std::string project_id;
  std::string user_id;
  std::string kind = "render";  ///< render or regenerate
  std::string status;           ///< queued, processing, complete, failed, cancelled
  int progress = 0;             ///< percent
  std::string current_step;
  int shots_total = 0;
  int shots_done = 0;
  std::string settings_json = "{}";
  std::int64_t cost_credits = 0;
  std::string result_json;  ///< empty until complete
  std::string error;        ///< why it failed; empty otherwise
  std::string script;       ///< the project's screenplay (read with the job)
  std::string title;        ///< the project's title
  std::string user_plan;    ///< the owner's plan (users.plan), read with the job
  std::string created_at;   ///< ISO 8601, UTC
  std::string started_at;   ///< empty until processing
  std::string finished_at;  ///< empty until finished

  /// True once the job can change no more.
  bool finished() const noexcept {
    return status == "complete" || status == "failed" || status == "cancelled";
  }
};

/// One shot of a job (render_shots).
struct shot_record {
  std::string shot_id;  ///< "sc2-sh3"
  std::string scene_id;
  int position = 0;
  std::string input_hash;
  std::int64_t duration_ms = 0;
  std::string spec_json = "{}";
  std::string status = "queued";  ///< queued, rendering, done, reused, failed, cancelled
  int progress = 0;
  std::string current_step = "queued";
  int attempts = 0;
  std::string artifact;  ///< relative to the media folder
  std::string checksum;
  std::string segment_json;  ///< empty until done
  std::string node_id;
  std::string error;
  std::string reused_from;  ///< job id, when reused

  /// True when the shot's segment exists (rendered now or reused).
  bool has_segment() const noexcept { return status == "done" || status == "reused"; }
};

/// A finished shot whose segment a new job of the same project may reuse.
struct reusable_shot {
  /// The stored shot; `reused_from` names the job whose charge covers it:
  /// the job that rendered it (or paid for it as if it had), even when the
  /// row itself is a reuse.
  shot_record shot;
  /// That job's charge stands: it completed or was cancelled after start,
  /// was charged and not refunded. Reusing the shot is free only then.
  bool paid = false;
};

/// A consistency reference registered for a project.
struct reference_record {
  std::string id;
  std::string kind;  ///< character or location
  std::string name;
  std::uint64_t seed = 0;
  std::string palette_json = "[]";
  std::string voice_json;  ///< empty for locations
  std::string image;
};

/// What a finished film left behind, written with the job's completion.
struct film_record {
  std::string video_url;
  std::string thumbnail_url;
  std::string subtitle_urls_json = "{}";  ///< {"srt": url, "vtt": url}
  double duration_s = 0;
  std::string result_json = "{}";
};

/// Render jobs in PostgreSQL. Every state change of a job is one transaction
/// that also moves its project's status, and, where credits move, the
/// ledger's row: the charge commits with "processing", the refund with
/// "failed", the cancellation record with "cancelled". Thread-safe.
class job_repository {
 public:
  explicit job_repository(pg_pool& pool) : pool_(pool) {}

  /// Creates a pending project owned by `user_id`; its id. (Until the
  /// gateway's project_repository lands, the render command needs this.)
  result<std::string> create_project(const std::string& user_id, const std::string& title,
                                     const std::string& script, const std::string& settings_json);
  /// The newest job of the user's projects whose script is `script` and that
  /// is still queued or processing: what `reelfarm render` resumes.
  result<std::optional<std::string>> find_live_job(const std::string& user_id,
                                                   const std::string& script);

  /// A queued job for the project (the project must belong to `user_id`).
  /// conflict when the project already has a queued or processing job.
  result<job_record> create(const std::string& user_id, const std::string& project_id,
                            const std::string& kind, const std::string& settings_json);
  /// The job with its project's title and script; not_found otherwise.
  result<job_record> get(const std::string& job_id);
  /// The project's newest job (any state); nullopt when it has none.
  result<std::optional<job_record>> latest_for_project(const std::string& project_id);
  /// The shots of a job, in film order.
  result<std::vector<shot_record>> shots(const std::string& job_id);
  /// Jobs queued or processing (what a restarted supervisor resumes), oldest first.
  result<std::vector<std::string>> unfinished();

  /// Starts a queued job in one transaction: stores its shots, registers the
  /// references, charges `cost_credits` (when > 0, key "render:<job>") and
  /// marks job and project processing. A job already processing is returned
  /// as it is (a resumed supervisor charges nothing again). job_cancelled
  /// when it was cancelled first; insufficient_credits (nothing written)
  /// when the balance is short.
  result<job_record> start(const std::string& job_id, const std::vector<shot_record>& shots,
                           const std::vector<reference_record>& references,
                           std::int64_t cost_credits, const std::string& description);
  /// Persists the job's progress (percent, step, shots done).
  result<void> set_progress(const std::string& job_id, int percent, const std::string& step,
                            int shots_done);
  /// Persists one shot's state (status, progress, artifact, checksum, segment...).
  result<void> update_shot(const std::string& job_id, const shot_record& shot);
  /// A finished shot of another job of the same project with this input hash
  /// whose segment may be reused, one that is paid for when there is one,
  /// else the newest; nullopt when none. One query, whatever the project's
  /// history.
  result<std::optional<reusable_shot>> find_reusable(const std::string& project_id,
                                                     const std::string& input_hash);

  /// Marks job and project complete with the film's URLs and duration.
  result<job_record> complete(const std::string& job_id, const film_record& film);
  /// Marks job and project failed and refunds the charge (if any) in the same
  /// transaction, once: calling again changes nothing.
  result<job_record> fail(const std::string& job_id, const std::string& why);
  /// The user cancels: before start nothing is charged (and nothing can be);
  /// after start the charge stays. Job and project become cancelled in the
  /// same transaction as the ledger's record. A finished job is returned as is.
  result<cancel_outcome> cancel(const std::string& job_id);

 private:
  pg_pool& pool_;
};

}  // namespace reelfarm
