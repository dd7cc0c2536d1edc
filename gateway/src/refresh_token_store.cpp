#include "reelfarm/gateway/refresh_token_store.hpp"

#include <pqxx/pqxx>

#include "reelfarm/gateway/errc.hpp"
#include "reelfarm/gateway/token_codec.hpp"

namespace reelfarm::gateway {

namespace {

error storage(const char* what, const std::exception& e) {
  return error(gateway_errc::storage, std::string("cannot ") + what + ": " + e.what());
}

error unknown_token() {
  return error(gateway_errc::token_invalid, "the refresh token is not valid");
}

// Inserts the next token of `family`; returns its id and the secret.
std::pair<std::string, std::string> insert_token(pqxx::work& tx, const std::string& user_id,
                                                 const std::string& family,
                                                 std::chrono::seconds ttl) {
  auto secret = random_token(32);
  auto id = tx.exec_params1(
                  "INSERT INTO refresh_tokens (user_id, family, token_hash, expires_at) "
                  "VALUES ($1::uuid, $2::uuid, $3, now() + make_interval(secs => $4)) "
                  "RETURNING id::text",
                  user_id, family, sha256_hex(secret), static_cast<double>(ttl.count()))[0]
                .as<std::string>();
  return {id, secret};
}

}  // namespace

result<issued_refresh> refresh_token_store::issue(const std::string& user_id) {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    auto user = tx.exec_params(
        "SELECT role, token_version, gen_random_uuid()::text FROM users WHERE id = $1::uuid",
        user_id);
    if (user.empty()) {
      return error(gateway_errc::token_invalid, "the account no longer exists");
    }
    auto family = user[0][2].as<std::string>();
    auto [id, secret] = insert_token(tx, user_id, family, ttl_);
    tx.commit();
    return issued_refresh{secret, user_id, user[0][0].as<std::string>(),
                          user[0][1].as<std::int64_t>(), family};
  } catch (const std::exception& e) {
    conn->discard();
    return storage("issue a refresh token", e);
  }
}

result<issued_refresh> refresh_token_store::rotate(const std::string& token) {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    auto r = tx.exec_params(
        "SELECT t.id::text, t.user_id::text, t.family::text, t.revoked_at IS NOT NULL, "
        "t.expires_at <= now(), u.role, u.token_version FROM refresh_tokens t JOIN users u ON u.id "
        "= t.user_id "
        "WHERE t.token_hash = $1 FOR UPDATE OF t",
        sha256_hex(token));
    if (r.empty()) {
      return unknown_token();
    }
    auto id = r[0][0].as<std::string>();
    auto user = r[0][1].as<std::string>();
    auto family = r[0][2].as<std::string>();
    if (r[0][3].as<bool>()) {
      // A rotated token came back: someone holds a copy. Cut the family off.
      tx.exec_params0(
          "UPDATE refresh_tokens SET revoked_at = now() WHERE family = $1::uuid AND revoked_at "
          "IS NULL",
          family);
      tx.commit();
      return error(gateway_errc::refresh_reused,
                   "the refresh token was already used; every session of this login is revoked");
    }
    if (r[0][4].as<bool>()) {
      return error(gateway_errc::token_expired, "the refresh token has expired; log in again");
    }
    auto [next_id, secret] = insert_token(tx, user, family, ttl_);
    tx.exec_params0(
        "UPDATE refresh_tokens SET revoked_at = now(), replaced_by = $2::uuid WHERE id = $1::uuid",
        id, next_id);
    tx.commit();
    return issued_refresh{secret, user, r[0][5].as<std::string>(), r[0][6].as<std::int64_t>(),
                          family};
  } catch (const std::exception& e) {
    conn->discard();
    return storage("rotate the refresh token", e);
  }
}

result<revoked_session> refresh_token_store::revoke_family(const std::string& token) {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    auto r = tx.exec_params(
        "UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE family = "
        "(SELECT family FROM refresh_tokens WHERE token_hash = $1) RETURNING user_id::text, "
        "family::text",
        sha256_hex(token));
    tx.commit();
    if (r.empty()) {
      return unknown_token();
    }
    return revoked_session{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
  } catch (const std::exception& e) {
    conn->discard();
    return storage("revoke the refresh token", e);
  }
}

result<std::int64_t> refresh_token_store::end_sessions(const std::string& user_id) {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    auto bumped = tx.exec_params(
        "UPDATE users SET token_version = token_version + 1 WHERE id = $1::uuid "
        "RETURNING token_version",
        user_id);
    if (bumped.empty()) {
      return error(gateway_errc::token_invalid, "the account no longer exists");
    }
    tx.exec_params0(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1::uuid AND revoked_at IS "
        "NULL",
        user_id);
    tx.commit();
    return bumped[0][0].as<std::int64_t>();
  } catch (const std::exception& e) {
    conn->discard();
    return storage("end the user's sessions", e);
  }
}

}  // namespace reelfarm::gateway
