#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/password_hash.hpp"
#include "reelfarm/store/pg_pool.hpp"
#include "reelfarm/store/plan_catalog.hpp"
#include "reelfarm/store/user_account.hpp"

namespace reelfarm {

/// Users in PostgreSQL: sign-up with a unique (case-insensitive) email and an
/// Argon2id password hash, look-ups, logins. Plan changes and credits go
/// through `credit_ledger`. Thread-safe.
class account_repository {
 public:
  account_repository(pg_pool& pool, plan_catalog plans,
                     password_cost cost = default_password_cost());

  /// Creates a user on the default plan with that plan's monthly credits
  /// (granted through the ledger in the same transaction) and the renewal a
  /// month from today. duplicate_email when the email is taken in any case.
  result<user_account> create(const new_user& user);
  /// The user with this id; not_found otherwise.
  result<user_account> get(const std::string& id);
  /// The user with this email, compared case-insensitively; not_found otherwise.
  result<user_account> find_by_email(const std::string& email);
  /// Checks the password; on success records the login (and upgrades an
  /// outdated hash). A wrong email or password is the same `password` error,
  /// so callers cannot tell which accounts exist.
  /// An email without an account is checked against a decoy hash of the
  /// same cost (decoy_password_hash), so it takes as long as a wrong password.
  result<user_account> login(const std::string& email, const std::string& password);
  /// Makes the decoy hash `login` uses for unknown emails now (one Argon2id
  /// hash at this repository's cost), so the first such login is not slower
  /// than the rest; servers call it at start-up. Fails only when hashing does.
  result<void> prepare_login();
  /// Sets last_login_at to now.
  result<void> record_login(const std::string& id);
  /// Replaces the password hash.
  result<void> set_password(const std::string& id, const std::string& password);
  /// Sets the role ("creator" or "admin").
  result<void> set_role(const std::string& id, const std::string& role);

 private:
  result<user_account> find(const std::string& where, const std::string& value);
  pg_pool& pool_;
  plan_catalog plans_;
  password_cost cost_;
};

}  // namespace reelfarm
