#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "reelfarm/store/redis_client.hpp"

namespace reelfarm {

/// A cached balance and the ledger position it reflects.
struct cached_balance {
  std::int64_t balance = 0;
  std::int64_t version = 0;  ///< id of the user's newest ledger transaction (0: none)
};

/// The Redis cache of credit balances: `user:credits:{id}` holds
/// "<balance>:<version>" with a TTL of 5 minutes. It is only ever a cache: every
/// failure is swallowed (logged once per outage) and callers fall back to
/// PostgreSQL, so losing Redis changes no figure. Writes are versioned so a
/// slow reader can never put an older balance over a newer one. Thread-safe.
class balance_cache {
 public:
  /// Connects lazily to `redis_url`; `timeout` bounds every Redis call.
  explicit balance_cache(std::string redis_url,
                         std::chrono::milliseconds timeout = std::chrono::milliseconds(200),
                         std::chrono::seconds ttl = std::chrono::minutes(5));
  ~balance_cache();
  balance_cache(const balance_cache&) = delete;
  balance_cache& operator=(const balance_cache&) = delete;

  /// The cached balance, or nullopt (absent, expired or Redis unreachable).
  std::optional<cached_balance> get(const std::string& user_id);
  /// Stores `value` unless the cache already holds a newer version. On
  /// failure it tries to delete the entry; returns false when Redis is down.
  bool put(const std::string& user_id, cached_balance value);
  /// Deletes the entry; returns false when Redis is down.
  bool invalidate(const std::string& user_id);

  /// The Redis key of a user's balance.
  static std::string key_for(const std::string& user_id) { return "user:credits:" + user_id; }

 private:
  std::optional<redis_client> borrow();
  void give_back(redis_client client);
  void note_failure(const std::string& what);
  std::string url_;
  std::chrono::milliseconds timeout_;
  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::vector<redis_client> idle_;
  // After a failed connect, further attempts wait until then, so an outage
  // costs one timeout per second rather than one per ledger operation.
  std::chrono::steady_clock::time_point retry_after_{};
  bool down_ = false;
};

}  // namespace reelfarm
