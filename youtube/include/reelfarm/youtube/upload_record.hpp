#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reelfarm::youtube {

/// One upload as stored (youtube_integrations). `session_uri` is a
/// credential: never logged, never shown to users.
struct upload_record {
  std::string id;
  std::string user_id;
  std::string project_id;
  std::string status;  ///< pending, uploading, complete, failed
  std::string title;
  std::string description;
  std::vector<std::string> tags;
  std::string privacy_status;
  std::optional<std::string> playlist_id;     ///< an existing playlist, or the created one
  std::optional<std::string> playlist_title;  ///< create this playlist first
  std::optional<std::string> film_path;       ///< relative to the media folder
  std::optional<std::string> thumbnail_path;
  std::int64_t total_bytes = 0;
  std::int64_t bytes_sent = 0;
  std::optional<std::string> session_uri;
  std::optional<std::string> channel_id;
  std::optional<std::string> video_id;
  std::optional<std::string> youtube_url;
  std::optional<std::string> thumbnail_url;
  bool thumbnail_set = false;
  std::optional<std::string> playlist_item_id;
  std::optional<std::string> error;
  int attempts = 0;
  std::string created_at;  ///< ISO 8601, UTC
  std::string updated_at;
  std::optional<std::string> finished_at;
};

/// What a user asks for in POST /projects/{id}/youtube (validated by the gateway).
struct upload_request {
  std::string user_id;
  std::string project_id;
  std::string title;
  std::string description;
  std::vector<std::string> tags;
  std::string privacy_status = "private";
  std::optional<std::string> playlist_id;     ///< add to this existing playlist
  std::optional<std::string> playlist_title;  ///< create a playlist of this title and add to it
};

}  // namespace reelfarm::youtube
