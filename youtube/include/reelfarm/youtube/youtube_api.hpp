#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "reelfarm/common/result.hpp"
#include "reelfarm/youtube/access_token_cache.hpp"
#include "reelfarm/youtube/authorized_call.hpp"
#include "reelfarm/youtube/youtube_options.hpp"

namespace reelfarm::youtube {

/// The user's channel as channels.list?mine=true shows it.
struct channel_info {
  std::string id;
  std::string title;
};

/// The YouTube Data API v3 calls around an upload: the channel, the
/// thumbnail and the playlist. Quota is the caller's (see quota_ledger):
/// these methods only make the calls. Not thread-safe.
class youtube_api {
 public:
  youtube_api(const youtube_options& options, access_token_cache& tokens,
              retry_settings retry = {});

  /// channels.list part=snippet mine=true (1 unit).
  result<channel_info> my_channel();
  /// thumbnails.set (50 units): uploads `image` (JPEG or PNG, at most 2 MB)
  /// for `video_id`; the URL of the largest thumbnail YouTube reports.
  result<std::string> set_thumbnail(const std::string& video_id, std::string_view image,
                                    const std::string& content_type);
  /// playlists.insert (50 units); the new playlist's id.
  result<std::string> insert_playlist(const std::string& title, const std::string& privacy);
  /// playlistItems.insert (50 units); the new item's id.
  result<std::string> insert_playlist_item(const std::string& playlist_id,
                                           const std::string& video_id);

 private:
  result<nlohmann::json> call_json(http_request request, std::string_view what);

  youtube_options options_;
  access_token_cache& tokens_;
  retry_settings retry_;
  http_client http_;
  backoff waits_;
};

}  // namespace reelfarm::youtube
