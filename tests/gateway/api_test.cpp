// Every route over real HTTP, with a real PostgreSQL and Redis.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "gateway_fixture.hpp"
#include "reelfarm/common/metrics.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;

TEST_CASE("health, readiness and the documents", "[api]") {
  gateway_env env;
  auto health = env.get("/api/v1/healthz");
  CHECK(health.status == 200);
  CHECK(health.json()["status"] == "ok");
  CHECK(health.headers.count("x-request-id") == 1);
  auto ready = env.get("/api/v1/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.json()["postgres"]["status"] == "ok");
  CHECK(ready.json()["redis"]["status"] == "ok");
  auto doc = env.get("/api/openapi.json");
  CHECK(doc.status == 200);
  CHECK(doc.json()["openapi"] == "3.0.3");
  auto page = env.get("/api/docs");
  CHECK(page.status == 200);
  CHECK(page.headers["content-type"].starts_with("text/html"));
}

TEST_CASE("request ids are echoed or generated", "[api]") {
  gateway_env env;
  CHECK(env.get("/api/v1/healthz", {"X-Request-Id: my-id.1"}).headers["x-request-id"] == "my-id.1");
  auto generated = env.get("/api/v1/healthz", {"X-Request-Id: bad id\x01"});
  CHECK(generated.headers["x-request-id"].size() == 32);
  auto missing = env.get("/api/v1/nothing");
  CHECK(missing.status == 404);
  CHECK(missing.error_code() == "not_found");
  CHECK(missing.headers["x-request-id"].size() == 32);
}

TEST_CASE("register, login, refresh with rotation, logout", "[api][auth]") {
  gateway_env env;
  auto alice = env.sign_up("alice");
  CHECK(alice.access.size() > 20);

  auto again = env.send("POST", "/api/v1/auth/register",
                        {{"email", "ALICE@example.com"}, {"password", "another-password"}});
  CHECK(again.status == 409);
  CHECK(again.error_code() == "email_taken");

  auto wrong = env.send("POST", "/api/v1/auth/login",
                        {{"email", alice.email}, {"password", "not-the-password"}});
  CHECK(wrong.status == 401);
  CHECK(wrong.error_code() == "invalid_credentials");
  auto nobody = env.send("POST", "/api/v1/auth/login",
                         {{"email", "nobody@example.com"}, {"password", "whatever-pw"}});
  CHECK(nobody.status == 401);
  CHECK(nobody.json() == wrong.json());  // no way to tell which accounts exist

  auto login = env.send("POST", "/api/v1/auth/login",
                        {{"email", alice.email}, {"password", alice.password}});
  REQUIRE(login.status == 200);
  CHECK(login.json()["token_type"] == "Bearer");
  CHECK(login.json()["expires_in"] == 3600);
  CHECK(login.headers["cache-control"] == "no-store");

  auto first = login.json()["refresh_token"].get<std::string>();
  auto rotated = env.send("POST", "/api/v1/auth/refresh", {{"refresh_token", first}});
  REQUIRE(rotated.status == 200);
  auto second = rotated.json()["refresh_token"].get<std::string>();
  CHECK(second != first);
  CHECK(env.get("/api/v1/users/me",
                {"Authorization: Bearer " + rotated.json()["access_token"].get<std::string>()})
            .status == 200);

  // The first token again: theft. The whole family is revoked.
  auto reused = env.send("POST", "/api/v1/auth/refresh", {{"refresh_token", first}});
  CHECK(reused.status == 401);
  CHECK(reused.error_code() == "refresh_token_reused");
  CHECK(env.send("POST", "/api/v1/auth/refresh", {{"refresh_token", second}}).status == 401);

  // Logout revokes the other login's family.
  CHECK(env.send("POST", "/api/v1/auth/logout", {{"refresh_token", alice.refresh}}).status == 204);
  CHECK(env.send("POST", "/api/v1/auth/refresh", {{"refresh_token", alice.refresh}}).status == 401);
  CHECK(env.send("POST", "/api/v1/auth/logout", {{"refresh_token", "unknown"}}).status == 401);
}

TEST_CASE("registration validates its input", "[api][auth]") {
  gateway_env env;
  auto bad = [&](const nlohmann::json& body) {
    return env.send("POST", "/api/v1/auth/register", body).status;
  };
  CHECK(bad({{"email", "no-at-sign"}, {"password", "long-enough"}}) == 422);
  CHECK(bad({{"email", "a@b"}, {"password", "short"}}) == 422);
  CHECK(bad({{"email", "a@b"}}) == 422);
  CHECK(bad({{"email", "a@b"}, {"password", "long-enough"}, {"role", "admin"}}) == 422);
  CHECK(bad({{"email", 5}, {"password", "long-enough"}}) == 422);
}

TEST_CASE("users/me reads and updates the caller", "[api][users]") {
  gateway_env env;
  auto bob = env.sign_up("bob");
  auto me = env.get("/api/v1/users/me", {bob.auth()});
  REQUIRE(me.status == 200);
  CHECK(me.json()["email"] == bob.email);
  CHECK(me.json()["role"] == "creator");
  CHECK(me.json()["plan"] == "free");
  CHECK_FALSE(me.json().contains("password_hash"));

  auto renamed = env.send("PUT", "/api/v1/users/me", {{"full_name", "Bob B."}}, {bob.auth()});
  CHECK(renamed.status == 200);
  CHECK(renamed.json()["full_name"] == "Bob B.");

  CHECK(
      env.send("PUT", "/api/v1/users/me", {{"password", "new-password-1"}}, {bob.auth()}).status ==
      422);
  CHECK(env.send("PUT", "/api/v1/users/me",
                 {{"password", "new-password-1"}, {"current_password", "wrong-one"}}, {bob.auth()})
            .status == 403);
  CHECK(env.send("PUT", "/api/v1/users/me",
                 {{"password", "new-password-1"}, {"current_password", bob.password}}, {bob.auth()})
            .status == 200);
  // The old tokens died with the old password; the new password works.
  CHECK(env.send("POST", "/api/v1/auth/refresh", {{"refresh_token", bob.refresh}}).status == 401);
  CHECK(env.get("/api/v1/users/me", {bob.auth()}).status == 401);
  auto again = env.send("POST", "/api/v1/auth/login",
                        {{"email", bob.email}, {"password", "new-password-1"}});
  REQUIRE(again.status == 200);
  bob.access = again.json()["access_token"];
  CHECK(env.send("PUT", "/api/v1/users/me", {{"email", "x@y"}}, {bob.auth()}).status == 422);
}

TEST_CASE("projects CRUD with pagination and ownership", "[api][projects]") {
  gateway_env env;
  auto carol = env.sign_up("carol");
  auto dave = env.sign_up("dave");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto made = env.send("POST", "/api/v1/projects",
                         {{"title", "Film " + std::to_string(i)},
                          {"script", "INT. HOUSE - DAY\n\nA door opens."},
                          {"settings", {{"style", "noir"}}}},
                         {carol.auth()});
    REQUIRE(made.status == 201);
    CHECK(made.json()["status"] == "pending");
    CHECK(made.headers["location"] == "/api/v1/projects/" + made.json()["id"].get<std::string>());
    ids.push_back(made.json()["id"]);
  }
  auto page = env.get("/api/v1/projects?limit=2&offset=1", {carol.auth()});
  REQUIRE(page.status == 200);
  CHECK(page.json()["total"] == 5);
  CHECK(page.json()["items"].size() == 2);
  CHECK(page.json()["items"][0]["id"] == ids[3]);  // newest first
  CHECK_FALSE(page.json()["items"][0].contains("script"));
  CHECK(env.get("/api/v1/projects?limit=0", {carol.auth()}).status == 400);
  CHECK(env.get("/api/v1/projects?limit=abc", {carol.auth()}).status == 400);
  CHECK(env.get("/api/v1/projects?offset=-1", {carol.auth()}).status == 400);

  auto one = env.get("/api/v1/projects/" + ids[0], {carol.auth()});
  CHECK(one.status == 200);
  CHECK(one.json()["script"] == "INT. HOUSE - DAY\n\nA door opens.");
  CHECK(one.json()["settings"]["style"] == "noir");

  // Another user sees nothing: 404, exactly as for a missing project.
  CHECK(env.get("/api/v1/projects/" + ids[0], {dave.auth()}).status == 404);
  CHECK(env.send("PUT", "/api/v1/projects/" + ids[0], {{"title", "mine"}}, {dave.auth()}).status ==
        404);
  CHECK(http_call("DELETE", env.url("/api/v1/projects/" + ids[0]), {}, {dave.auth()}).status ==
        404);
  CHECK(env.get("/api/v1/projects", {dave.auth()}).json()["total"] == 0);
  CHECK(env.get("/api/v1/projects/00000000-0000-4000-8000-000000000000", {carol.auth()}).status ==
        404);
  CHECK(env.get("/api/v1/projects/not-a-uuid", {carol.auth()}).status == 404);

  // Settings are stored only when a render could use them; the seed fixes the casting.
  auto seeded = env.send("PUT", "/api/v1/projects/" + ids[1],
                         {{"settings", {{"seed", "cast-0123abcd"}}}}, {carol.auth()});
  CHECK(seeded.status == 200);
  CHECK(seeded.json()["settings"]["seed"] == "cast-0123abcd");
  for (const auto& bad :
       {nlohmann::json{{"seed", "two words"}}, nlohmann::json{{"seed", 7}},
        nlohmann::json{{"watermark", "no"}}, nlohmann::json{{"resolution", "huge"}}}) {
    INFO(bad.dump());
    auto refused =
        env.send("PUT", "/api/v1/projects/" + ids[1], {{"settings", bad}}, {carol.auth()});
    CHECK(refused.status == 422);
    CHECK(refused.error_code() == "invalid_settings");
    auto created =
        env.send("POST", "/api/v1/projects", {{"title", "x"}, {"settings", bad}}, {carol.auth()});
    CHECK(created.status == 422);
  }
  CHECK(env.get("/api/v1/projects/" + ids[1], {carol.auth()}).json()["settings"]["seed"] ==
        "cast-0123abcd");

  auto updated =
      env.send("PUT", "/api/v1/projects/" + ids[0], {{"title", "Renamed"}}, {carol.auth()});
  CHECK(updated.status == 200);
  CHECK(updated.json()["title"] == "Renamed");
  CHECK(updated.json()["script"] == "INT. HOUSE - DAY\n\nA door opens.");
  CHECK(env.send("PUT", "/api/v1/projects/" + ids[0], nlohmann::json::object(), {carol.auth()})
            .status == 422);
  CHECK(env.send("POST", "/api/v1/projects", {{"title", "   "}}, {carol.auth()}).status == 422);
  CHECK(env.send("POST", "/api/v1/projects", {{"script", "x"}}, {carol.auth()}).status == 422);

  CHECK(http_call("DELETE", env.url("/api/v1/projects/" + ids[0]), {}, {carol.auth()}).status ==
        204);
  CHECK(env.get("/api/v1/projects/" + ids[0], {carol.auth()}).status == 404);
  CHECK(http_call("DELETE", env.url("/api/v1/projects/" + ids[0]), {}, {carol.auth()}).status ==
        404);
}

TEST_CASE("credits: balance, plans, history, grants, upgrades", "[api][credits]") {
  gateway_env env;
  auto erin = env.sign_up("erin");
  auto admin = env.admin("root");

  auto balance = env.get("/api/v1/credits/balance", {erin.auth()});
  REQUIRE(balance.status == 200);
  CHECK(balance.json()["plan"] == "free");
  auto start = balance.json()["balance"].get<std::int64_t>();

  auto plans = env.get("/api/v1/credits/plans", {erin.auth()});
  REQUIRE(plans.status == 200);
  CHECK(plans.json()["items"].size() >= 3);

  // A creator cannot mint credits without a payment provider.
  auto self =
      env.send("POST", "/api/v1/credits/purchase", {{"amount", 10}, {"payment_ref", "pay-1"}},
               {erin.auth(), "Idempotency-Key: k1"});
  CHECK(self.status == 403);
  CHECK(env.send("POST", "/api/v1/credits/purchase", {{"amount", 10}, {"user_id", admin.id}},
                 {erin.auth(), "Idempotency-Key: k1"})
            .status == 403);

  // An admin grants; the same key replays instead of paying twice.
  nlohmann::json grant = {{"amount", 25}, {"user_id", erin.id}, {"description", "welcome"}};
  CHECK(env.send("POST", "/api/v1/credits/purchase", grant, {admin.auth()}).status == 400);
  auto granted =
      env.send("POST", "/api/v1/credits/purchase", grant, {admin.auth(), "Idempotency-Key: g1"});
  REQUIRE(granted.status == 201);
  CHECK(granted.json()["balance_after"] == start + 25);
  auto replay =
      env.send("POST", "/api/v1/credits/purchase", grant, {admin.auth(), "Idempotency-Key: g1"});
  CHECK(replay.status == 200);
  CHECK(replay.json()["replayed"] == true);
  CHECK(env.get("/api/v1/credits/balance", {erin.auth()}).json()["balance"] == start + 25);
  CHECK(env.send("POST", "/api/v1/credits/purchase", {{"amount", 0}, {"user_id", erin.id}},
                 {admin.auth(), "Idempotency-Key: g2"})
            .status == 422);
  CHECK(env.send("POST", "/api/v1/credits/purchase",
                 {{"amount", 5}, {"user_id", "00000000-0000-4000-8000-000000000000"}},
                 {admin.auth(), "Idempotency-Key: g3"})
            .status == 404);
  auto paid = env.send("POST", "/api/v1/credits/purchase",
                       {{"amount", 7}, {"user_id", erin.id}, {"payment_ref", "stripe-1"}},
                       {admin.auth(), "Idempotency-Key: p1"});
  CHECK(paid.status == 201);
  CHECK(paid.json()["kind"] == "purchase");

  auto first = env.get("/api/v1/credits/history?limit=2", {erin.auth()});
  REQUIRE(first.status == 200);
  CHECK(first.json()["items"].size() == 2);
  CHECK(first.json()["items"][0]["kind"] == "purchase");
  REQUIRE(first.json()["next_before"].is_number());
  auto rest = env.get("/api/v1/credits/history?limit=2&before=" +
                          std::to_string(first.json()["next_before"].get<std::int64_t>()),
                      {erin.auth()});
  CHECK(rest.status == 200);
  CHECK(rest.json()["items"].size() >= 1);
  CHECK(env.get("/api/v1/credits/history?before=x", {erin.auth()}).status == 400);

  // Plans are bought, not claimed: the old free upgrade is refused, for
  // every plan and every caller, and moves nothing.
  auto before_claims = env.get("/api/v1/credits/balance", {erin.auth()}).json();
  for (const char* plan : {"pro", "enterprise", "free", "pro"}) {
    auto claim = env.send("POST", "/api/v1/subscriptions/upgrade", {{"plan", plan}},
                          {erin.auth(), std::string("Idempotency-Key: up-") + plan});
    CHECK(claim.status == 503);
    CHECK(claim.error_code() == "billing_disabled");
  }
  CHECK(
      env.send("POST", "/api/v1/subscriptions/upgrade", {{"plan", "pro"}}, {admin.auth()}).status ==
      503);
  CHECK(env.get("/api/v1/credits/balance", {erin.auth()}).json() == before_claims);

  // An administrator changes a plan, with a reason that is audited.
  auto path = "/api/v1/admin/users/" + erin.id + "/plan";
  CHECK(env.send("POST", path, {{"plan", "pro"}, {"reason", "mine"}}, {erin.auth()}).status == 403);
  CHECK(env.send("POST", path, {{"plan", "pro"}}, {admin.auth()}).status == 422);
  CHECK(env.send("POST", path, {{"plan", "pro"}, {"reason", "  "}}, {admin.auth()}).status == 422);
  CHECK(env.send("POST", path, {{"plan", "platinum"}, {"reason", "x"}}, {admin.auth()}).status ==
        422);
  CHECK(env.send("POST", "/api/v1/admin/users/00000000-0000-4000-8000-000000000000/plan",
                 {{"plan", "pro"}, {"reason", "x"}}, {admin.auth()})
            .status == 404);
  auto changed = env.send("POST", path, {{"plan", "pro"}, {"reason", "support ticket 42"}},
                          {admin.auth(), "Idempotency-Key: plan-1"});
  REQUIRE(changed.status == 200);
  CHECK(changed.json()["from"] == "free");
  CHECK(changed.json()["to"] == "pro");
  CHECK(env.get("/api/v1/users/me", {erin.auth()}).json()["plan"] == "pro");
  pqxx::connection conn(env.dsn());
  pqxx::read_transaction tx(conn);
  auto audit = tx.exec_params(
      "SELECT message FROM logs WHERE user_id = $1::uuid AND action = 'plan.changed_by_admin'",
      erin.id);
  REQUIRE(audit.size() == 1);
  CHECK_THAT(audit[0][0].as<std::string>(), Catch::Contains("free -> pro") &&
                                                Catch::Contains(admin.id) &&
                                                Catch::Contains("support ticket 42"));
}

TEST_CASE("admin routes are for admins only", "[api][admin]") {
  gateway_env env;
  auto frank = env.sign_up("frank");
  auto admin = env.admin("boss");
  for (const char* path :
       {"/api/v1/admin/users", "/api/v1/admin/statistics", "/api/v1/admin/system-health"}) {
    INFO(path);
    CHECK(env.get(path).status == 401);
    auto denied = env.get(path, {frank.auth()});
    CHECK(denied.status == 403);
    CHECK(denied.error_code() == "forbidden");
    CHECK(env.get(path, {admin.auth()}).status == 200);
  }
  auto users = env.get("/api/v1/admin/users?limit=1", {admin.auth()});
  CHECK(users.json()["total"] == 2);
  CHECK(users.json()["items"].size() == 1);
  auto stats = env.get("/api/v1/admin/statistics", {admin.auth()});
  CHECK(stats.json()["users"]["total"] == 2);
  CHECK(stats.json()["users"]["admins"] == 1);
  auto health = env.get("/api/v1/admin/system-health", {admin.auth()});
  CHECK(health.json()["status"] == "ok");
  CHECK(health.json()["server"]["connections"].get<int>() >= 1);
}

TEST_CASE("render jobs: priced before queueing, owned, cancellable", "[api][jobs]") {
  gateway_env env;
  auto gina = env.sign_up("gina");
  auto hugo = env.sign_up("hugo");
  auto project = [&](const test_user& u, const std::string& script) {
    auto r = env.send("POST", "/api/v1/projects", {{"title", "T"}, {"script", script}}, {u.auth()});
    REQUIRE(r.status == 201);
    return r.json()["id"].get<std::string>();
  };
  const std::string short_script = "INT. ROOM - DAY\n\nA lamp.\n\nANNA\nHello there.\n";
  std::string long_script = "INT. HALL - NIGHT\n\n";
  for (int i = 0; i < 40; ++i) {
    long_script += "ANNA\nThis line is long enough to take a few seconds to say aloud.\n\n";
  }
  auto empty = project(gina, "");
  auto too_long = project(gina, long_script);
  auto fine = project(gina, short_script);

  CHECK(env.send("POST", "/api/v1/projects/" + fine + "/render", nlohmann::json::object()).status ==
        401);
  auto none = env.send("POST", "/api/v1/projects/" + empty + "/render", nlohmann::json::object(),
                       {gina.auth()});
  CHECK(none.status == 422);
  CHECK(none.error_code() == "invalid_screenplay");
  auto limit = env.send("POST", "/api/v1/projects/" + too_long + "/render",
                        nlohmann::json::object(), {gina.auth()});
  CHECK(limit.status == 422);
  CHECK(limit.error_code() == "plan_limit");
  CHECK(env.send("POST", "/api/v1/projects/" + fine + "/render", nlohmann::json::object(),
                 {hugo.auth()})
            .status == 404);
  CHECK(env.send("POST", "/api/v1/projects/not-a-uuid/render", nlohmann::json::object(),
                 {gina.auth()})
            .status == 404);
  auto bad_settings = env.send("POST", "/api/v1/projects/" + fine + "/render",
                               {{"settings", {{"resolution", "huge"}}}}, {gina.auth()});
  CHECK(bad_settings.status == 422);
  CHECK(env.send("POST", "/api/v1/projects/" + fine + "/render", {{"settings", 3}}, {gina.auth()})
            .status == 422);

  auto queued = env.send("POST", "/api/v1/projects/" + fine + "/render", nlohmann::json::object(),
                         {gina.auth()});
  INFO(queued.body);
  REQUIRE(queued.status == 202);
  auto job_id = queued.json()["job"]["id"].get<std::string>();
  CHECK(queued.json()["job"]["status"] == "queued");
  CHECK(queued.json()["plan"]["cost_credits"] == 3);
  auto twice = env.send("POST", "/api/v1/projects/" + fine + "/render", nlohmann::json::object(),
                        {gina.auth()});
  CHECK(twice.status == 409);
  CHECK(twice.error_code() == "render_in_progress");

  // Status: the owner sees it (twice: the second answer comes from the
  // cache), another user gets the same 404 as for a job that does not exist.
  CHECK(env.get("/api/v1/jobs/" + job_id, {gina.auth()}).json()["status"] == "queued");
  CHECK(env.get("/api/v1/jobs/" + job_id, {gina.auth()}).status == 200);
  CHECK(env.get("/api/v1/jobs/" + job_id, {hugo.auth()}).status == 404);
  CHECK(env.get("/api/v1/jobs/" + job_id + "?shots=true", {hugo.auth()}).status == 404);
  CHECK(env.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000", {gina.auth()}).status == 404);
  CHECK(env.get("/api/v1/jobs/1", {gina.auth()}).status == 404);

  // Nothing rendered yet: no media; a bad Last-Event-ID is refused up front.
  auto media = env.get("/api/v1/projects/" + fine + "/media/film", {gina.auth()});
  CHECK(media.status == 404);
  CHECK(media.error_code() == "no_media");
  CHECK(env.get("/api/v1/projects/" + fine + "/media/other", {gina.auth()}).status == 404);
  CHECK(env.get("/api/v1/projects/" + fine + "/events", {gina.auth(), "Last-Event-ID: 1 OR 1=1"})
            .status == 400);

  // Cancel before any coordinator started it: nothing charged.
  CHECK(env.send("DELETE", "/api/v1/jobs/" + job_id, nullptr, {hugo.auth()}).status == 404);
  auto cancelled = env.send("DELETE", "/api/v1/jobs/" + job_id, nullptr, {gina.auth()});
  INFO(cancelled.body);
  REQUIRE(cancelled.status == 200);
  CHECK(cancelled.json()["charge"] == "none");
  CHECK(cancelled.json()["job"]["status"] == "cancelled");
  CHECK(env.get("/api/v1/jobs/" + job_id, {gina.auth()}).json()["status"] == "cancelled");
  CHECK(env.send("DELETE", "/api/v1/jobs/" + job_id, nullptr, {gina.auth()}).status == 409);
  CHECK(env.send("POST", "/api/v1/projects/" + fine + "/cancel", nullptr, {gina.auth()}).status ==
        409);
  CHECK(env.get("/api/v1/credits/balance", {gina.auth()}).json()["balance"] == 3);
}

TEST_CASE("a gateway without a farm coordinator answers the node routes 503", "[api][nodes]") {
  gateway_env env;
  auto ops = env.admin("olga");
  auto user = env.sign_up("ivan");
  CHECK(env.get("/api/v1/nodes", {user.auth()}).status == 403);
  auto nodes = env.get("/api/v1/nodes", {ops.auth()});
  CHECK(nodes.status == 503);
  CHECK(nodes.error_code() == "farm_unavailable");
}

TEST_CASE("the API port serves no metrics, the metrics port has the gateway's requests",
          "[api][metrics]") {
  gateway_env env;
  CHECK(env.get("/api/v1/healthz").status == 200);
  // Not on the public port, in any spelling.
  for (const char* path : {"/metrics", "/api/v1/metrics", "/metrics/"}) {
    INFO(path);
    auto page = env.get(path);
    CHECK(page.status == 404);
    CHECK_THAT(page.body, !Catch::Contains("reelfarm_http_requests_total"));
  }
  // What `serve --metrics-port` exposes: the process registry, on its own port.
  auto endpoint = metrics::serve_flag("127.0.0.1:0");
  REQUIRE(endpoint);
  REQUIRE(*endpoint);
  auto url = "http://127.0.0.1:" + std::to_string((*endpoint)->port()) + "/metrics";
  auto page = http_call("GET", url);
  REQUIRE(page.status == 200);
  CHECK_THAT(page.body, Catch::Contains("reelfarm_http_requests_total{") &&
                            Catch::Contains("route=\"/api/v1/healthz\"") &&
                            Catch::Contains("reelfarm_http_request_duration_seconds_bucket"));
  // Route patterns, never concrete paths: ids stay out of label values.
  env.get("/api/v1/jobs/5d4c1f3e-0000-4000-8000-000000000001");
  CHECK_THAT(http_call("GET", url).body,
             !Catch::Contains("5d4c1f3e") && Catch::Contains("route=\"/api/v1/jobs/{id}\""));
}

TEST_CASE("CORS answers allowed origins only", "[api]") {
  gateway_env env;
  auto allowed =
      http_call("OPTIONS", env.url("/api/v1/projects"), {},
                {"Origin: https://app.example.com", "Access-Control-Request-Method: POST"});
  CHECK(allowed.status == 204);
  CHECK(allowed.headers["access-control-allow-origin"] == "https://app.example.com");
  CHECK(allowed.headers["access-control-allow-headers"].find("Authorization") != std::string::npos);
  auto foreign = http_call("OPTIONS", env.url("/api/v1/projects"), {},
                           {"Origin: https://evil.example", "Access-Control-Request-Method: POST"});
  CHECK(foreign.headers.count("access-control-allow-origin") == 0);
  auto simple = env.get("/api/v1/healthz", {"Origin: https://app.example.com"});
  CHECK(simple.headers["access-control-allow-origin"] == "https://app.example.com");
}

TEST_CASE("rate limits answer 429 with Retry-After", "[api][limits]") {
  auto options = test_gateway_options();
  options.limits.login_per_ip = 3;
  options.limits.per_user = 5;
  gateway_env env(options);
  auto redis = redis_client::connect(test_services().redis_url, std::chrono::seconds(2));
  REQUIRE(redis);
  const std::string login_key = "ratelimit:ip:127.0.0.1:POST /api/v1/auth/login";
  (void)redis->command({"DEL", login_key});
  for (int i = 0; i < 3; ++i) {
    CHECK(env.send("POST", "/api/v1/auth/login", {{"email", "x@y"}, {"password", "whatever1"}})
              .status == 401);
  }
  auto limited =
      env.send("POST", "/api/v1/auth/login", {{"email", "x@y"}, {"password", "whatever1"}});
  CHECK(limited.status == 429);
  CHECK(limited.error_code() == "rate_limited");
  auto retry = std::stoi(limited.headers["retry-after"]);
  CHECK(retry >= 1);
  CHECK(retry <= 60);
  (void)redis->command({"DEL", login_key});

  (void)redis->command({"DEL", "ratelimit:ip:127.0.0.1:POST /api/v1/auth/register"});
  auto user = env.sign_up("hank");
  int statuses_429 = 0;
  for (int i = 0; i < 7; ++i) {
    statuses_429 += env.get("/api/v1/credits/plans", {user.auth()}).status == 429;
  }
  CHECK(statuses_429 == 2);
  CHECK(
      redis->command({"TTL", "ratelimit:user:" + user.id + ":GET /api/v1/credits/plans"}).value() !=
      "-1");
  (void)redis->command({"DEL", "ratelimit:ip:127.0.0.1:POST /api/v1/auth/register"});
}
