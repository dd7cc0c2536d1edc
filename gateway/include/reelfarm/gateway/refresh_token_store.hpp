#pragma once

#include <chrono>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/pg_pool.hpp"

namespace reelfarm::gateway {

/// A refresh token just issued, and whose it is.
struct issued_refresh {
  std::string token;  ///< the secret: returned to the client once, stored hashed
  std::string user_id;
  std::string role;
};

/// Rotating refresh tokens in PostgreSQL (refresh_tokens, migration 0005).
/// Only SHA-256 digests are stored. Each refresh revokes the presented
/// token and issues the next of its family; a revoked token presented again
/// revokes the whole family (theft detection). Thread-safe.
class refresh_token_store {
 public:
  refresh_token_store(pg_pool& pool, std::chrono::seconds ttl) : pool_(pool), ttl_(ttl) {}

  /// Starts a new family for `user_id` (a login or sign-up).
  result<issued_refresh> issue(const std::string& user_id, const std::string& role);
  /// Exchanges `token` for the next one: token_invalid for an unknown token,
  /// token_expired for an expired one, refresh_reused for a revoked one.
  result<issued_refresh> rotate(const std::string& token);
  /// Revokes the family of `token` (logout); token_invalid when unknown.
  result<void> revoke_family(const std::string& token);
  /// Revokes every token of the user (password change).
  result<void> revoke_user(const std::string& user_id);

 private:
  pg_pool& pool_;
  std::chrono::seconds ttl_;
};

}  // namespace reelfarm::gateway
