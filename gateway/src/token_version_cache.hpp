#pragma once

// Internal: what the access-token check compares a token with (the user's
// current role and token version, and whether its login session is live),
// kept for a few seconds so most requests cost no query.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "reelfarm/gateway/user_directory.hpp"

namespace reelfarm::gateway {

/// A small TTL cache of session_user by (user id, session id). A revocation
/// made through this process is seen at once (forget_*); one made elsewhere
/// (another gateway, SQL) within `ttl`. Thread-safe.
class token_version_cache {
 public:
  using clock = std::chrono::steady_clock;

  explicit token_version_cache(std::chrono::milliseconds ttl) : ttl_(ttl) {}

  /// The cached state when it is younger than the TTL and not older than a
  /// token of version `version` (versions only grow: a token newer than the
  /// cache means the cache is stale).
  std::optional<session_user> fresh(const std::string& user_id, const std::string& session,
                                    std::int64_t version, clock::time_point now) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key(user_id, session));
    if (it == entries_.end() || now - it->second.at >= ttl_ ||
        it->second.user.token_version < version) {
      return std::nullopt;
    }
    return it->second.user;
  }

  void put(const std::string& user_id, const std::string& session, session_user user,
           clock::time_point now) {
    if (ttl_.count() <= 0) {
      return;
    }
    std::lock_guard lock(mutex_);
    if (entries_.size() >= max_entries) {
      entries_.clear();  // crude, and costs one query per active session
    }
    entries_[key(user_id, session)] = {std::move(user), now};
  }

  /// Drops one login session (logout).
  void forget_session(const std::string& user_id, const std::string& session) {
    std::lock_guard lock(mutex_);
    entries_.erase(key(user_id, session));
  }

  /// Drops every session of the user (logout-all, password or role change).
  void forget_user(const std::string& user_id) {
    std::lock_guard lock(mutex_);
    auto prefix = user_id + '/';
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = it->first.starts_with(prefix) ? entries_.erase(it) : std::next(it);
    }
  }

 private:
  static std::string key(const std::string& user_id, const std::string& session) {
    return user_id + '/' + session;
  }
  static constexpr std::size_t max_entries = 100'000;
  struct entry {
    session_user user;
    clock::time_point at;
  };
  std::chrono::milliseconds ttl_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

}  // namespace reelfarm::gateway
