#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/pg_pool.hpp"

namespace reelfarm::gateway {

/// What an access token is checked against on each request.
struct session_user {
  std::string role;                ///< "creator" or "admin", as stored now
  std::int64_t token_version = 0;  ///< users.token_version
  bool session_live = false;       ///< the token's login session is not logged out
};

/// The read models and small writes the API needs that the store's
/// repositories do not offer: user lists, profile edits, paginated credit
/// history, statistics. Results are JSON ready for a response. Thread-safe.
class user_directory {
 public:
  explicit user_directory(pg_pool& pool) : pool_(pool) {}

  /// {"items":[user...],"total":n} for admins, oldest first.
  result<nlohmann::json> list_users(int limit, std::int64_t offset);
  /// The user's current role and token version, and whether the login
  /// session `session` (a refresh-token family id) still has a live token;
  /// nullopt when there is no such user (deleted).
  result<std::optional<session_user>> session_state(const std::string& user_id,
                                                    const std::string& session);
  /// Sets the display name.
  result<void> set_full_name(const std::string& user_id, const std::string& full_name);
  /// Opts the user in to (or out of) sharing their outputs; the moment of
  /// opting in is kept until they opt out (the membership discount).
  result<void> set_data_sharing(const std::string& user_id, bool opt_in);
  /// {"items":[entry...],"next_before":id|null}: transactions older than
  /// `before_id` (0: the newest), newest first.
  result<nlohmann::json> credit_history(const std::string& user_id, int limit,
                                        std::int64_t before_id);
  /// Users, plans, projects and credit flow over the whole farm.
  result<nlohmann::json> statistics();
  /// Round-trip time of `SELECT 1` and the server version.
  result<nlohmann::json> ping();

 private:
  pg_pool& pool_;
};

}  // namespace reelfarm::gateway
