#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/redis_client.hpp"

namespace reelfarm::gateway {

/// The verdict for one request.
struct rate_decision {
  bool allowed = true;
  int remaining = 0;
  std::chrono::seconds retry_after{0};  ///< when refused: until the window ends
};

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
