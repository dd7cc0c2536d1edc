#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/pg_pool.hpp"
#include "reelfarm/youtube/upload_record.hpp"

namespace reelfarm::youtube {

/// Uploads in PostgreSQL (youtube_integrations). Every status change writes
/// its YouTube_Integration__c outbox row in the same transaction (the
/// crm_track_youtube trigger); progress updates do not. Reads are scoped to
/// the owner: another user's upload is not_found. Thread-safe.
class upload_repository {
 public:
  explicit upload_repository(pg_pool& pool) : pool_(pool) {}

  /// Queues an upload of the project's film: store_errc::not_found when the
  /// project is not the user's, store_errc::conflict when it has no
  /// complete film or an upload of it is already under way.
  result<upload_record> create(const upload_request& request);
  /// The user's upload `id`.
  result<upload_record> get(const std::string& user_id, const std::string& id);
  /// The user's uploads, newest first.
  result<std::vector<upload_record>> list(const std::string& user_id, int limit,
                                          std::int64_t offset);

  /// The next upload due (pending, or uploading with a lapsed claim), now
  /// claimed by `worker` for `lease`; nullopt when there is none.
  result<std::optional<upload_record>> claim(const std::string& worker, std::chrono::seconds lease);
  /// A new session URI (and the film's size), bytes_sent back to 0.
  result<void> save_session(const std::string& id, const std::string& session_uri,
                            std::int64_t total_bytes);
  /// Bytes YouTube holds; extends the claim by `lease`.
  result<void> save_progress(const std::string& id, std::int64_t bytes_sent,
                             std::chrono::seconds lease);
  /// The video YouTube confirmed (the upload is not complete until the
  /// thumbnail and playlist steps are done).
  result<void> save_video(const std::string& id, const std::string& video_id,
                          const std::string& url, const std::string& channel_id);
  result<void> save_thumbnail(const std::string& id, const std::string& thumbnail_url);
  result<void> save_playlist(const std::string& id, const std::string& playlist_id);
  result<void> save_playlist_item(const std::string& id, const std::string& item_id);
  /// complete: only with a video id (the table refuses otherwise).
  result<void> complete(const std::string& id);
  /// failed, with the reason users see.
  result<void> fail(const std::string& id, const std::string& reason);
  /// Gives the claim back; the upload is tried again after `delay`.
  result<void> retry_later(const std::string& id, const std::string& reason,
                           std::chrono::seconds delay);

 private:
  result<void> update(const std::string& id, const std::string& set_clause,
                      const std::vector<std::string>& params, const char* what);

  pg_pool& pool_;
};

}  // namespace reelfarm::youtube
