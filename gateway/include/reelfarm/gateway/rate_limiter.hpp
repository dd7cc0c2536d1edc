#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/gateway/gateway_options.hpp"
#include "reelfarm/store/redis_client.hpp"

namespace reelfarm::gateway {

/// The verdict for one request.
struct rate_decision {
  bool allowed = true;
  int remaining = 0;
  std::chrono::seconds retry_after{0};  ///< when refused: until the window ends
};

/// The Redis key prefix of the account a login names:
/// "login:{<SHA-256 hex of the trimmed, lower-cased email>}". Hashed, so no
/// email sits in Redis and none can spell another key; the braces keep the
/// account's two keys (`:attempts`, `:lock`) in one Redis Cluster slot.
std::string login_account_key(std::string_view email);

/// Fixed-window counters in Redis: key `ratelimit:{subject}:{endpoint}`
/// counts requests and expires with the window, so every gateway process
/// shares one budget. A process reserves slices of the budget (one
/// request for small limits, up to limit/20 and at most 100 for large ones)
/// with one atomic Lua call and spends them locally, so busy keys cost one
/// Redis round trip per slice, not per request; the shared count never lets
/// more than `limit` requests through per window. When Redis is unreachable
/// requests are let through (logged once per outage): losing the limiter
/// must not take the API down. Thread-safe.
class rate_limiter {
 public:
  rate_limiter(std::string redis_url, std::chrono::milliseconds timeout);

  /// Counts one request of `subject` (e.g. "user:<id>", "ip:<addr>") on
  /// `endpoint` and decides whether it may proceed under `limit` per `window`.
  rate_decision hit(const std::string& subject, const std::string& endpoint, int limit,
                    std::chrono::seconds window);
  /// Counts one login attempt for the account `email` names under `policy`
  /// (see login_backoff), atomically in Redis, so concurrent guesses cannot
  /// slip past the count. Refused while the account is locked, with the
  /// lock's remaining time; refused attempts are not counted, so hammering a
  /// locked account does not lengthen the lock. The attempt that reaches
  /// `policy.attempts` locks the account for `first_lock`, and each attempt
  /// after a lock ended for twice the last lock, up to `max_lock`; that lock
  /// is set before the password is checked, and lifted by login_succeeded.
  /// Allowed when Redis is unreachable, as the other limits are.
  rate_decision login_attempt(std::string_view email, const login_backoff& policy);
  /// A login for `email` succeeded: its attempts and any lock are forgotten.
  void login_succeeded(std::string_view email);
  /// Round-trip time of PING, or the error.
  result<double> ping_ms();

 private:
  result<std::string> run(const std::vector<std::string>& command);
  rate_decision reserve(const std::string& key, int limit, std::chrono::seconds window);

  // What this process reserved of one key's window and has not spent yet.
  struct slice {
    std::chrono::steady_clock::time_point ends;
    int left = 0;
    int remaining = 0;  // of the whole budget, when the slice was reserved
  };
  std::mutex slices_mutex_;
  std::unordered_map<std::string, slice> slices_;
  std::size_t hits_since_sweep_ = 0;
  std::string url_;
  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::vector<redis_client> idle_;
  std::chrono::steady_clock::time_point retry_after_{};
  bool down_ = false;
};

}  // namespace reelfarm::gateway
