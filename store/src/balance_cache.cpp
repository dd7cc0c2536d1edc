#include "reelfarm/store/balance_cache.hpp"

#include <charconv>

#include "reelfarm/common/log.hpp"

namespace reelfarm {
namespace {

// Sets the entry only when it is absent or older than ARGV[1], so a reader
// that read PostgreSQL before a change cannot overwrite the changed balance.
constexpr const char* put_script = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur then
  local v = tonumber(string.match(cur, ':(%-?%d+)$'))
  if v and v > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2] .. ':' .. ARGV[1], 'EX', ARGV[3])
return 1
)lua";

std::optional<std::int64_t> to_int(const std::string& text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

balance_cache::balance_cache(std::string redis_url, std::chrono::milliseconds timeout,
                             std::chrono::seconds ttl)
    : url_(std::move(redis_url)), timeout_(timeout), ttl_(ttl) {}

balance_cache::~balance_cache() = default;

std::optional<redis_client> balance_cache::borrow() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      auto client = std::move(idle_.back());
      idle_.pop_back();
      return client;
    }
    if (std::chrono::steady_clock::now() < retry_after_) {
      return std::nullopt;
    }
  }
  auto client = redis_client::connect(url_, timeout_);
  if (!client) {
    note_failure(client.error().message());
    return std::nullopt;
  }
  return std::move(client).value();
}

void balance_cache::give_back(redis_client client) {
  std::lock_guard lock(mutex_);
  if (down_) {
    down_ = false;
    log::info("balance_cache", "Redis answers again; the balance cache is back");
  }
  idle_.push_back(std::move(client));
}

void balance_cache::note_failure(const std::string& what) {
  std::lock_guard lock(mutex_);
  retry_after_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  if (!down_) {
    down_ = true;
    log::warn("balance_cache", "Redis is unreachable; balances are read from PostgreSQL",
              {{"error", what}});
  }
}

std::optional<cached_balance> balance_cache::get(const std::string& user_id) {
  auto client = borrow();
  if (!client) {
    return std::nullopt;
  }
  auto value = client->command({"GET", key_for(user_id)});
  if (!value) {
    note_failure(value.error().message());
    return std::nullopt;  // the connection may be broken: it is dropped, not returned
  }
  give_back(std::move(*client));
  auto colon = value->find(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  auto b = to_int(value->substr(0, colon));
  auto v = to_int(value->substr(colon + 1));
  if (!b || !v) {
    return std::nullopt;
  }
  return cached_balance{*b, *v};
}

bool balance_cache::put(const std::string& user_id, cached_balance value) {
  auto client = borrow();
  if (!client) {
    return false;
  }
  auto done =
      client->command({"EVAL", put_script, "1", key_for(user_id), std::to_string(value.version),
                       std::to_string(value.balance), std::to_string(ttl_.count())});
  if (!done) {
    // Better no entry than a stale one.
    (void)client->command({"DEL", key_for(user_id)});
    note_failure(done.error().message());
    return false;
  }
  give_back(std::move(*client));
  return true;
}

bool balance_cache::invalidate(const std::string& user_id) {
  auto client = borrow();
  if (!client) {
    return false;
  }
  auto done = client->command({"DEL", key_for(user_id)});
  if (!done) {
    note_failure(done.error().message());
    return false;
  }
  give_back(std::move(*client));
  return true;
}

}  // namespace reelfarm
