#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/pg_pool.hpp"
#include "reelfarm/store/redis_client.hpp"
#include "reelfarm/youtube/channel_repository.hpp"
#include "reelfarm/youtube/quota_ledger.hpp"
#include "reelfarm/youtube/token_cipher.hpp"
#include "reelfarm/youtube/upload_repository.hpp"
#include "reelfarm/youtube/youtube_options.hpp"

namespace reelfarm::youtube {

/// How the coordinator's upload worker runs.
struct upload_worker_options {
  youtube_options youtube;
  std::string postgres_dsn;
  std::string redis_url;  ///< progress events; empty: none
  std::filesystem::path media_dir;
  std::string worker_id;  ///< empty: host name and pid
  std::chrono::milliseconds poll_interval{500};
  /// A claim lapses this long after the last sign of life, so another
  /// coordinator (or this one restarted) resumes the upload.
  std::chrono::seconds lease{120};
  /// After a transient failure the upload waits attempts x this.
  std::chrono::seconds retry_delay{30};
  int max_attempts = 8;
};

/// The coordinator role's YouTube uploads: a thread that claims due uploads
/// from PostgreSQL (FOR UPDATE SKIP LOCKED, like the render dispatcher polls
/// its job table), uploads the film with the resumable protocol, resuming an
/// interrupted upload from its stored session URI (status query first), then
/// sets the thumbnail and adds the video to the playlist, creating it if
/// asked. Every step is recorded before the next starts, so a crash at any
/// instruction resumes where it stopped. Progress in bytes goes to the
/// project's Redis stream `project:events:<project>` as `type youtube`
/// entries, like render progress. An upload is recorded complete only after
/// YouTube confirmed the video and every requested step.
class upload_worker {
 public:
  static result<std::unique_ptr<upload_worker>> create(upload_worker_options options);
  ~upload_worker();
  upload_worker(const upload_worker&) = delete;
  upload_worker& operator=(const upload_worker&) = delete;

  /// Starts the polling thread.
  void start();
  /// Asks the running upload to stop (it resumes later from its session)
  /// and joins the thread.
  void stop();

  /// Claims and runs the next due upload on the caller's thread; true when
  /// there was one. Errors are PostgreSQL's; an upload's own failure is
  /// recorded on it, not returned.
  result<bool> run_once();

 private:
  explicit upload_worker(upload_worker_options options, token_cipher cipher);
  void loop();
  void process(upload_record upload);
  void publish(const upload_record& upload);
  void settle(upload_record& upload, const error& why);

  upload_worker_options options_;
  token_cipher cipher_;
  pg_pool pool_;
  upload_repository uploads_;
  channel_repository channels_;
  quota_ledger quota_;
  std::optional<redis_client> redis_;
  std::chrono::steady_clock::time_point redis_retry_at_{};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace reelfarm::youtube
