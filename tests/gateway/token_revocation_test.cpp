// Revocable access tokens (issue #19): every access token carries the user's
// token version and login session; logout, logout-all, a password change,
// a role change and a deleted account end them, and the role is the user's
// role now, never the token's.
#include <catch2/catch.hpp>

#include <ctime>

#include <pqxx/pqxx>

#include "gateway_fixture.hpp"
#include "reelfarm/gateway/jwt.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;
using json = nlohmann::json;

namespace {

http_reply me(gateway_env& env, const std::string& access) {
  return env.get("/api/v1/users/me", {"Authorization: Bearer " + access});
}

test_user log_in(gateway_env& env, test_user u) {
  auto r = env.send("POST", "/api/v1/auth/login", {{"email", u.email}, {"password", u.password}});
  REQUIRE(r.status == 200);
  u.access = r.json()["access_token"];
  u.refresh = r.json()["refresh_token"];
  return u;
}

void sql(gateway_env& env, const std::string& statement) {
  pqxx::connection conn(env.dsn());
  pqxx::work tx(conn);
  tx.exec0(statement);
  tx.commit();
}

void check_revoked(const http_reply& r) {
  INFO(r.body);
  CHECK(r.status == 401);
  CHECK(r.error_code() == "token_revoked");
  CHECK(r.json()["error"]["message"].get<std::string>().find("sign in again") != std::string::npos);
}

}  // namespace

TEST_CASE("access tokens carry the token version and the session", "[api][tokens]") {
  gateway_env env;
  auto alice = env.sign_up("alice");
  auto claims = gateway::jwt_verify(alice.access, test_gateway_options().jwt_secret, "reelfarm",
                                    std::time(nullptr));
  REQUIRE(claims);
  CHECK(claims->version == 0);
  CHECK(claims->session.size() == 36);
}

TEST_CASE("logout ends the session's access token, other sessions live on", "[api][tokens]") {
  gateway_env env;
  auto phone = env.sign_up("alice");
  auto laptop = log_in(env, phone);
  REQUIRE(me(env, phone.access).status == 200);
  REQUIRE(me(env, laptop.access).status == 200);

  REQUIRE(env.send("POST", "/api/v1/auth/logout", {{"refresh_token", phone.refresh}}).status ==
          204);
  check_revoked(me(env, phone.access));  // replayed after logout
  CHECK(me(env, laptop.access).status == 200);
  CHECK(env.send("POST", "/api/v1/auth/refresh", {{"refresh_token", phone.refresh}}).status == 401);
  // A rotated session keeps its id: the refreshed access token works.
  auto next = env.send("POST", "/api/v1/auth/refresh", {{"refresh_token", laptop.refresh}});
  REQUIRE(next.status == 200);
  CHECK(me(env, next.json()["access_token"]).status == 200);
  CHECK(me(env, laptop.access).status == 200);
}

TEST_CASE("logout-all revokes every access and refresh token of the user", "[api][tokens]") {
  gateway_env env;
  auto phone = env.sign_up("alice");
  auto laptop = log_in(env, phone);
  auto bob = env.sign_up("bob");
  REQUIRE(me(env, laptop.access).status == 200);

  CHECK(env.send("POST", "/api/v1/auth/logout-all", json::object()).status == 401);
  auto out = env.send("POST", "/api/v1/auth/logout-all", json::object(), {phone.auth()});
  CHECK(out.status == 204);
  check_revoked(me(env, phone.access));
  check_revoked(me(env, laptop.access));
  CHECK(env.send("POST", "/api/v1/auth/refresh", {{"refresh_token", phone.refresh}}).status == 401);
  CHECK(env.send("POST", "/api/v1/auth/refresh", {{"refresh_token", laptop.refresh}}).status ==
        401);
  CHECK(me(env, bob.access).status == 200);  // nobody else's
  // Signing in again gives a token of the new version.
  auto again = log_in(env, phone);
  CHECK(me(env, again.access).status == 200);
  auto claims = gateway::jwt_verify(again.access, test_gateway_options().jwt_secret, "reelfarm",
                                    std::time(nullptr));
  REQUIRE(claims);
  CHECK(claims->version == 1);
}

TEST_CASE("a password change revokes every token of the user", "[api][tokens]") {
  gateway_env env;
  auto phone = env.sign_up("alice");
  auto laptop = log_in(env, phone);
  auto changed = env.send("PUT", "/api/v1/users/me",
                          {{"password", "a-new-password"}, {"current_password", phone.password}},
                          {phone.auth()});
  REQUIRE(changed.status == 200);
  check_revoked(me(env, phone.access));
  check_revoked(me(env, laptop.access));
  CHECK(env.send("POST", "/api/v1/auth/refresh", {{"refresh_token", laptop.refresh}}).status ==
        401);
  phone.password = "a-new-password";
  CHECK(me(env, log_in(env, phone).access).status == 200);
}

TEST_CASE("a role change ends the user's sessions, and the role is read from the user",
          "[api][tokens]") {
  gateway_env env;
  auto root = env.admin("root");
  auto carol = env.sign_up("carol");
  REQUIRE(env.get("/api/v1/admin/users", {carol.auth()}).status == 403);

  // A creator's token re-signed (with the server's own key) to claim admin:
  // the role comes from the user's record, so it is still a creator.
  const auto key = test_gateway_options().jwt_secret;
  auto claims = gateway::jwt_verify(carol.access, key, "reelfarm", std::time(nullptr));
  REQUIRE(claims);
  claims->role = "admin";
  CHECK(env.get("/api/v1/admin/users", {"Authorization: Bearer " + gateway::jwt_sign(*claims, key)})
            .status == 403);

  auto path = "/api/v1/admin/users/" + carol.id + "/role";
  CHECK(env.send("POST", path, {{"role", "root"}}, {root.auth()}).status == 422);
  CHECK(env.send("POST", path, {{"role", "admin"}}, {carol.auth()}).status == 403);
  auto promoted = env.send("POST", path, {{"role", "admin"}}, {root.auth()});
  REQUIRE(promoted.status == 200);
  CHECK(promoted.json()["changed"] == true);
  check_revoked(me(env, carol.access));
  CHECK(env.send("POST", "/api/v1/auth/refresh", {{"refresh_token", carol.refresh}}).status == 401);
  carol = log_in(env, carol);
  CHECK(env.get("/api/v1/admin/users", {carol.auth()}).status == 200);

  // The demotion bites at once: the admin token it leaves behind is refused.
  REQUIRE(env.send("POST", path, {{"role", "creator"}}, {root.auth()}).status == 200);
  check_revoked(env.get("/api/v1/admin/users", {carol.auth()}));
  carol = log_in(env, carol);
  CHECK(env.get("/api/v1/admin/users", {carol.auth()}).status == 403);
}

TEST_CASE("a revocation made outside this gateway is seen once the cache expires",
          "[api][tokens]") {
  auto options = test_gateway_options();
  options.token_check_ttl = std::chrono::milliseconds(0);  // every request reads PostgreSQL
  gateway_env env(options);
  auto dave = env.sign_up("dave");
  auto erin = env.sign_up("erin");
  REQUIRE(me(env, dave.access).status == 200);
  // Another gateway (or an operator) bumped the version.
  sql(env, "UPDATE users SET token_version = token_version + 1 WHERE id = '" + dave.id + "'");
  check_revoked(me(env, dave.access));
  // A role change in SQL bumps it by itself (a trigger): no stale admin.
  REQUIRE(me(env, erin.access).status == 200);
  sql(env, "UPDATE users SET role = 'admin' WHERE id = '" + erin.id + "'");
  check_revoked(me(env, erin.access));
  // A deleted account's tokens end. (The ledger is append-only and keeps
  // its users; an operator erasing one must bypass its triggers.)
  auto gone = log_in(env, erin);
  REQUIRE(me(env, gone.access).status == 200);
  {
    pqxx::connection conn(env.dsn());
    pqxx::work tx(conn);
    tx.exec0("SET LOCAL session_replication_role = replica");
    tx.exec0("DELETE FROM users WHERE id = '" + erin.id + "'");
    tx.commit();
  }
  auto r = me(env, gone.access);
  CHECK(r.status == 401);
  CHECK(r.error_code() == "token_revoked");
}

TEST_CASE("a validly signed token of no login session is refused", "[api][tokens]") {
  gateway_env env;
  auto frank = env.sign_up("frank");
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  // Signed with the server's own key, of the current version, but naming no
  // session (as tokens made before sessions were tracked): refused.
  gateway::jwt_claims claims{frank.id, "creator", "reelfarm", now, now + 600, 0, ""};
  CHECK(me(env, gateway::jwt_sign(claims, test_gateway_options().jwt_secret)).status == 401);
}
