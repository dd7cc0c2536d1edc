#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "reelfarm/common/config.hpp"
#include "reelfarm/common/result.hpp"

namespace reelfarm::youtube {

/// Resumable upload requests carry a multiple of this many bytes (all but
/// the last), as the YouTube Data API documents.
inline constexpr std::size_t chunk_granularity = 256 * 1024;

/// Everything the YouTube client needs: the configuration section `youtube`
/// plus the timings tests shorten.
struct youtube_options {
  std::string client_id;
  std::string client_secret;
  std::string redirect_uri;
  std::string token_key;  ///< never logged; see token_cipher
  std::string auth_url = "https://accounts.google.com/o/oauth2/v2/auth";
  std::string token_url = "https://oauth2.googleapis.com/token";
  std::string revoke_url = "https://oauth2.googleapis.com/revoke";
  std::string api_url = "https://www.googleapis.com/youtube/v3";
  std::string upload_url = "https://www.googleapis.com/upload/youtube/v3";
  std::size_t chunk_size = 8 << 20;
  /// JSON calls; a chunk gets this plus a second per 256 KiB.
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  /// Retries of 5xx and network errors: capped exponential backoff with jitter.
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_cap{64000};
  /// Consecutive failed attempts (no byte acknowledged in between) before an
  /// upload attempt gives up; the worker tries again later from the session.
  int max_retries = 8;
  /// Quota: videos.insert calls a day (their own bucket) and units a day.
  std::int64_t daily_uploads = 100;
  std::int64_t daily_units = 10000;
  /// OAuth consent scopes.
  std::string scope =
      "https://www.googleapis.com/auth/youtube.upload "
      "https://www.googleapis.com/auth/youtube";

  /// True when publishing is switched on (client id and key configured).
  bool enabled() const noexcept { return !client_id.empty() && !token_key.empty(); }
  /// Checks URLs, the chunk size and the key; errors name the key.
  result<void> validate() const;
};

/// The options of the configuration section `youtube`.
youtube_options options_from(const youtube_settings& settings);

/// The access-token-free quota costs of the Data API calls the farm makes
/// (developers.google.com/youtube/v3/determine_quota_cost).
inline constexpr std::int64_t units_thumbnails_set = 50;
inline constexpr std::int64_t units_playlists_insert = 50;
inline constexpr std::int64_t units_playlist_items_insert = 50;
inline constexpr std::int64_t units_channels_list = 1;

}  // namespace reelfarm::youtube
