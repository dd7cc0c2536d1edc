#include "reelfarm/gateway/rate_limiter.hpp"

#include <algorithm>
#include <cctype>

#include "reelfarm/common/log.hpp"
#include "reelfarm/gateway/errc.hpp"
#include "reelfarm/gateway/token_codec.hpp"

namespace reelfarm::gateway {

namespace {
// INCRBY and EXPIRE in one atomic step; replies "<count>:<ttl>".
constexpr const char* script =
    "local n = redis.call('INCRBY', KEYS[1], ARGV[2]) "
    "if n == tonumber(ARGV[2]) then redis.call('EXPIRE', KEYS[1], ARGV[1]) end "
    "local ttl = redis.call('TTL', KEYS[1]) "
    "if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end "
    "return tostring(n) .. ':' .. tostring(ttl)";

// One login attempt of an account, atomically: KEYS[1] counts attempts
// since the last success, KEYS[2] is the lock; ARGV: attempts before the
// first lock, window (s), first lock (s), longest lock (s). Replies
// "locked:<seconds left>" or "ok:<attempts>". A lock without expiry (never
// written so, but a lock must not last for ever) gets the longest lock.
constexpr const char* login_script =
    "local left = redis.call('PTTL', KEYS[2]) "
    "if left == -1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) left = tonumber(ARGV[4]) * 1000 end "
    "if left >= 0 then return 'locked:' .. tostring(math.max(1, math.ceil(left / 1000))) end "
    "local n = redis.call('INCR', KEYS[1]) "
    "local window = tonumber(ARGV[2]) "
    "if n == 1 or redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], window) end "
    "local limit = tonumber(ARGV[1]) "
    "if n >= limit then "
    "  local lock = tonumber(ARGV[3]) "
    "  local cap = tonumber(ARGV[4]) "
    "  for i = 1, n - limit do "
    "    lock = lock * 2 "
    "    if lock >= cap then break end "
    "  end "
    "  if lock > cap then lock = cap end "
    "  redis.call('SET', KEYS[2], tostring(n), 'EX', tostring(lock)) "
    // The count outlives the lock, so the next attempt after it doubles it.
    "  redis.call('EXPIRE', KEYS[1], tostring(lock + window)) "
    "end "
    "return 'ok:' .. tostring(n)";

// The email as account_repository::login looks it up: trimmed, and
// compared case-insensitively.
std::string account_name(std::string_view email) {
  auto begin = email.find_first_not_of(" \t\r\n");
  auto end = email.find_last_not_of(" \t\r\n");
  std::string out(begin == std::string_view::npos ? std::string_view()
                                                  : email.substr(begin, end - begin + 1));
  for (auto& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

std::string login_account_key(std::string_view email) {
  return "login:{" + sha256_hex(account_name(email)) + "}";
}

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

rate_decision rate_limiter::login_attempt(std::string_view email, const login_backoff& policy) {
  if (policy.attempts <= 0) {
    return {};
  }
  auto key = login_account_key(email);
  auto window = std::max<long long>(1, policy.window.count());
  auto first = std::max<long long>(1, policy.first_lock.count());
  auto longest = std::max<long long>(first, policy.max_lock.count());
  auto reply = run({"EVAL", login_script, "2", key + ":attempts", key + ":lock",
                    std::to_string(policy.attempts), std::to_string(window), std::to_string(first),
                    std::to_string(longest)});
  if (!reply) {
    return {true, policy.attempts, std::chrono::seconds(0)};
  }
  auto colon = reply->find(':');
  long value =
      colon == std::string::npos ? 0 : std::strtol(reply->c_str() + colon + 1, nullptr, 10);
  if (reply->starts_with("locked:")) {
    return {false, 0, std::chrono::seconds(std::max<long>(1, value))};
  }
  return {true, static_cast<int>(std::max<long>(0, policy.attempts - value)),
          std::chrono::seconds(0)};
}

void rate_limiter::login_succeeded(std::string_view email) {
  auto key = login_account_key(email);
  // A failure here leaves the count to expire on its own: the user is in.
  (void)run({"DEL", key + ":attempts", key + ":lock"});
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
