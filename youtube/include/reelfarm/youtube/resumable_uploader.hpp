#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "reelfarm/common/backoff.hpp"
#include "reelfarm/common/result.hpp"
#include "reelfarm/youtube/access_token_cache.hpp"
#include "reelfarm/youtube/http_client.hpp"
#include "reelfarm/youtube/youtube_options.hpp"

namespace reelfarm::youtube {

/// What to upload: the file and the video resource (snippet, status).
struct upload_source {
  std::filesystem::path file;
  std::string content_type = "video/mp4";
  nlohmann::json resource = nlohmann::json::object();
};

/// The caller's part in an upload.
struct upload_hooks {
  /// Called before every videos.insert (each new session is one): reserve
  /// quota here; an error stops the upload before the call.
  std::function<result<void>()> before_insert;
  /// A new session URI: persist it, so a restarted process resumes.
  std::function<void(const std::string& session_uri)> on_session;
  /// Bytes YouTube acknowledged so far, of the total.
  std::function<void(std::int64_t acknowledged, std::int64_t total)> on_progress;
  /// True when the upload must stop now (it can resume from the session).
  std::function<bool()> stop_requested;
};

/// The finished upload: the video id and the resource YouTube returned.
struct uploaded_video {
  std::string id;
  nlohmann::json resource;
};

/// What an upload went through, for logs and tests.
struct upload_stats {
  int sessions = 0;        ///< videos.insert calls (new sessions)
  int chunks = 0;          ///< PUT requests with bytes
  int status_queries = 0;  ///< PUT bytes */TOTAL
  int retries = 0;         ///< waits after 5xx or network errors
  int short_acks = 0;      ///< 308s that acknowledged less than was sent
  int expired_sessions = 0;
  std::int64_t bytes_sent = 0;  ///< including bytes sent again
};

/// The YouTube Data API v3 resumable upload protocol
/// (developers.google.com/youtube/v3/guides/using_resumable_upload_protocol):
///  - POST {upload_url}/videos?uploadType=resumable&part=snippet,status with
///    X-Upload-Content-Length and X-Upload-Content-Type; the session URI
///    comes back in Location;
///  - PUT chunks of a multiple of 256 KiB (the last may be shorter) with
///    Content-Range: bytes FIRST-LAST/TOTAL; 308 Resume Incomplete carries
///    Range: bytes=0-LAST, which may be less than was sent: the next chunk
///    starts right after it;
///  - after an interruption (network error, 500/502/503/504) a status query
///    PUT with Content-Range: bytes */TOTAL and no body says where to resume;
///    retries back off exponentially with jitter;
///  - 404 or 410 on the session: it expired; a new session starts at byte 0.
/// Not thread-safe; one per upload.
class resumable_uploader {
 public:
  resumable_uploader(const youtube_options& options, access_token_cache& tokens);

  /// Uploads `source`, resuming `session_uri` when it is not empty.
  /// Succeeds only on YouTube's 200/201 with the video resource.
  result<uploaded_video> upload(const upload_source& source, std::string session_uri,
                                const upload_hooks& hooks);

  const upload_stats& stats() const noexcept { return stats_; }

 private:
  enum class outcome { complete, incomplete, expired, unauthorized, transient, failed };
  struct step {
    outcome kind = outcome::failed;
    std::int64_t acknowledged = 0;  ///< incomplete: bytes the server holds
    uploaded_video video;           ///< complete
    error why;                      ///< transient, failed
  };

  result<std::string> start_session(std::int64_t total, const upload_source& source);
  step put(const std::string& session_uri, std::string_view bytes, std::int64_t first,
           std::int64_t total, const std::string& content_type);
  step classify(const result<http_response>& response, std::string_view what);

  youtube_options options_;
  access_token_cache& tokens_;
  http_client http_;
  backoff waits_;
  upload_stats stats_;
};

/// Parses a 308's "Range: bytes=0-LAST" into the count of bytes held (LAST+1);
/// nullopt when malformed. An absent header means none.
std::optional<std::int64_t> parse_upload_range(std::string_view header);

}  // namespace reelfarm::youtube
