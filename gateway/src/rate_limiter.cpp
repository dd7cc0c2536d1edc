#include "reelfarm/gateway/rate_limiter.hpp"

#include <algorithm>

#include "reelfarm/common/log.hpp"
#include "reelfarm/gateway/errc.hpp"

namespace reelfarm::gateway {

namespace {
// INCRBY and EXPIRE in one atomic step; replies "<count>:<ttl>".
constexpr const char* script =
    "local n = redis.call('INCRBY', KEYS[1], ARGV[2]) "
    "if n == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "local ttl = redis.call('TTL', KEYS[1]) "
    "if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end "
    "return tostring(n) .. ':' .. tostring(ttl)";
}  // namespace

rate_limiter::rate_limiter(std::string redis_url, std::chrono::milliseconds timeout)
    : url_(std::move(redis_url)), timeout_(timeout) {}

result<std::string> rate_limiter::run(const std::vector<std::string>& command) {
  std::optional<redis_client> client;
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      client.emplace(std::move(idle_.back()));
      idle_.pop_back();
    } else if (down_ && std::chrono::steady_clock::now() < retry_after_) {
      return error(gateway_errc::storage, "Redis is unreachable");
    }
  }
  if (!client) {
    auto made = redis_client::connect(url_, timeout_);
    if (!made) {
      std::lock_guard lock(mutex_);
      // One connect attempt per second during an outage, not one per request.
      retry_after_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      if (!down_) {
        log::warn("gateway", "rate limiter cannot reach Redis; requests are not limited",
                  {{"error", made.error().message()}});
      }
      down_ = true;
      return std::move(made).error();
    }
    client.emplace(std::move(*made));
  }
  auto reply = client->command(command);
  if (reply) {
    std::lock_guard lock(mutex_);
    down_ = false;
    idle_.push_back(std::move(*client));
  }
  return reply;
}

rate_decision rate_limiter::hit(const std::string& subject, const std::string& endpoint, int limit,
                                std::chrono::seconds window) {
  if (limit <= 0) {
    return {};
  }
  auto key = "ratelimit:" + subject + ":" + endpoint;
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(slices_mutex_);
    if (++hits_since_sweep_ >= 4096) {
      hits_since_sweep_ = 0;
      std::erase_if(slices_, [&](const auto& item) { return item.second.ends <= now; });
    }
    auto it = slices_.find(key);
    if (it != slices_.end() && it->second.ends > now) {
      if (it->second.left > 0) {
        --it->second.left;
        return {true, it->second.remaining, std::chrono::seconds(0)};
      }
      if (it->second.remaining == 0) {
        // The whole budget is spent: refuse without asking Redis again.
        auto wait = std::chrono::ceil<std::chrono::seconds>(it->second.ends - now);
        return {false, 0, std::max(wait, std::chrono::seconds(1))};
      }
    }
  }
  return reserve(key, limit, window);
}

rate_decision rate_limiter::reserve(const std::string& key, int limit,
                                    std::chrono::seconds window) {
  int want = std::clamp(limit / 20, 1, 100);
  auto reply =
      run({"EVAL", script, "1", key, std::to_string(window.count()), std::to_string(want)});
  if (!reply) {
    return {true, limit, std::chrono::seconds(0)};
  }
  auto colon = reply->find(':');
  long count = std::strtol(reply->c_str(), nullptr, 10);
  long ttl = colon == std::string::npos ? window.count()
                                        : std::strtol(reply->c_str() + colon + 1, nullptr, 10);
  // What of this reservation still fits under the limit.
  long granted = std::clamp<long>(limit - (count - want), 0, want);
  rate_decision d;
  d.allowed = granted > 0;
  d.remaining = static_cast<int>(std::max<long>(0, limit - count));
  d.retry_after = std::chrono::seconds(std::max<long>(1, ttl));
  std::lock_guard lock(slices_mutex_);
  slices_[key] = {std::chrono::steady_clock::now() + std::chrono::seconds(std::max<long>(1, ttl)),
                  static_cast<int>(std::max<long>(0, granted - 1)), d.remaining};
  return d;
}

result<double> rate_limiter::ping_ms() {
  auto start = std::chrono::steady_clock::now();
  auto reply = run({"PING"});
  if (!reply) {
    return std::move(reply).error();
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace reelfarm::gateway
