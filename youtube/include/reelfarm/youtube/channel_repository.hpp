#pragma once

#include <optional>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/pg_pool.hpp"

namespace reelfarm::youtube {

/// A user's connected channel. `sealed_refresh_token` is what
/// token_cipher::seal made; the plaintext never reaches the database.
struct channel_record {
  std::string user_id;
  std::string sealed_refresh_token;
  std::string channel_id;
  std::string channel_title;
  std::string connected_at;  ///< ISO 8601, UTC
};

/// Connected channels in PostgreSQL (youtube_channels). Thread-safe.
class channel_repository {
 public:
  explicit channel_repository(pg_pool& pool) : pool_(pool) {}

  /// Connects (or reconnects) the user's channel.
  result<channel_record> save(const std::string& user_id, const std::string& sealed_refresh_token,
                              const std::string& channel_id, const std::string& channel_title,
                              const std::string& scope);
  /// The user's channel, or nullopt.
  result<std::optional<channel_record>> find(const std::string& user_id);
  /// Forgets the channel; the removed record (to revoke its token), or nullopt.
  result<std::optional<channel_record>> remove(const std::string& user_id);

 private:
  pg_pool& pool_;
};

}  // namespace reelfarm::youtube
