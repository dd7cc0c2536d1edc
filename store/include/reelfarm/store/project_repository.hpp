#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/pg_pool.hpp"

namespace reelfarm {

/// A project as stored (projects table).
struct project_record {
  std::string id;  ///< uuid
  std::string user_id;
  std::string title;
  std::string script;  ///< the screenplay, Fountain text
  std::string status;  ///< pending, processing, complete, failed, cancelled
  std::string settings_json = "{}";
  std::int64_t credits_used = 0;
  std::optional<double> video_duration;
  std::optional<std::string> video_url;
  std::optional<std::string> thumbnail_url;
  std::string subtitle_urls_json =
      "{}";                ///< {"srt": url, "vtt": url}, relative to the media folder
  std::string created_at;  ///< ISO 8601, UTC
  std::string updated_at;
};

/// One page of a user's projects, newest first.
struct project_page {
  std::vector<project_record> items;
  std::int64_t total = 0;  ///< all projects of the user
};

/// The fields a project update may change; unset ones stay as they are.
struct project_changes {
  std::optional<std::string> title;
  std::optional<std::string> script;
  std::optional<std::string> settings_json;
};

/// Projects in PostgreSQL, always scoped to their owner: a project of
/// another user is `not_found`, exactly like one that does not exist, so no
/// caller can learn which ids exist. Ids that are not UUIDs are `not_found`
/// too. Thread-safe.
class project_repository {
 public:
  explicit project_repository(pg_pool& pool) : pool_(pool) {}

  /// Creates a pending project.
  result<project_record> create(const std::string& user_id, const std::string& title,
                                const std::string& script, const std::string& settings_json);
  /// The owner's project `id`.
  result<project_record> get(const std::string& user_id, const std::string& id);
  /// `limit` projects from `offset`, newest first.
  result<project_page> list(const std::string& user_id, int limit, std::int64_t offset);
  /// Applies `changes`; the updated project.
  result<project_record> update(const std::string& user_id, const std::string& id,
                                const project_changes& changes);
  /// Deletes the project (its logs keep a NULL project).
  result<void> remove(const std::string& user_id, const std::string& id);
  /// Projects per status, over all users (admin statistics).
  result<std::vector<std::pair<std::string, std::int64_t>>> count_by_status();

 private:
  pg_pool& pool_;
};

/// True when `text` is a UUID in canonical 8-4-4-4-12 hex form.
bool is_uuid(const std::string& text) noexcept;

}  // namespace reelfarm
