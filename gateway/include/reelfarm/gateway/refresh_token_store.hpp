#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/pg_pool.hpp"

namespace reelfarm::gateway {

/// A refresh token just issued, and whose it is.
struct issued_refresh {
  std::string token;  ///< the secret: returned to the client once, stored hashed
  std::string user_id;
  std::string role;                ///< the user's role now
  std::int64_t token_version = 0;  ///< the user's token_version now (the access token's "ver")
  std::string family;              ///< the login session (the access token's "sid")
};

/// A login session just signed out.
struct revoked_session {
  std::string user_id;
  std::string family;  ///< the access tokens' "sid"
};

/// Rotating refresh tokens in PostgreSQL (refresh_tokens, migration 0005).
/// Only SHA-256 digests are stored. Each refresh revokes the presented
/// token and issues the next of its family; a revoked token presented again
/// revokes the whole family (theft detection). Thread-safe.
class refresh_token_store {
 public:
  refresh_token_store(pg_pool& pool, std::chrono::seconds ttl) : pool_(pool), ttl_(ttl) {}

  /// Starts a new family for `user_id` (a login or sign-up); the role and
  /// token version are read from the user's record.
  result<issued_refresh> issue(const std::string& user_id);
  /// Exchanges `token` for the next one: token_invalid for an unknown token,
  /// token_expired for an expired one, refresh_reused for a revoked one.
  result<issued_refresh> rotate(const std::string& token);
  /// Revokes the family of `token` (logout), so the access tokens of that
  /// login session ("sid") end too; token_invalid when unknown.
  result<revoked_session> revoke_family(const std::string& token);
  /// Ends every session of the user in one transaction: bumps
  /// users.token_version (so every access token issued so far is refused)
  /// and revokes all their refresh tokens. Logout-all, password and role
  /// changes. Returns the new version; not_found-like token_invalid when the
  /// user does not exist.
  result<std::int64_t> end_sessions(const std::string& user_id);

 private:
  pg_pool& pool_;
  std::chrono::seconds ttl_;
};

}  // namespace reelfarm::gateway
