// The gateway's defences over real HTTP (docs/security.md): per-account
// login backoff, X-Forwarded-For only from trusted proxies, regenerate
// checked like render.
#include <catch2/catch.hpp>

#include "gateway_fixture.hpp"
#include "reelfarm/gateway/rate_limiter.hpp"
#include "reelfarm/store/project_repository.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;
using json = nlohmann::json;

namespace {

redis_client redis() {
  auto r = redis_client::connect(test_services().redis_url, std::chrono::seconds(2));
  REQUIRE(r);
  return std::move(*r);
}

int retry_after(http_reply& r) {
  return r.headers.count("retry-after") != 0 ? std::stoi(r.headers["retry-after"]) : -1;
}

http_reply login(gateway_env& env, const std::string& email, const std::string& password,
                 std::vector<std::string> headers = {}) {
  return env.send("POST", "/api/v1/auth/login", {{"email", email}, {"password", password}},
                  std::move(headers));
}

// Forgets the account's attempts and lock: the run's Redis outlives tests.
void forget_account(redis_client& r, const std::string& email) {
  auto key = gateway::login_account_key(email);
  (void)r.command({"DEL", key + ":attempts", key + ":lock"});
}

// As if the lock ran out now, keeping the count that makes the next one longer.
void end_lock(redis_client& r, const std::string& email) {
  (void)r.command({"DEL", gateway::login_account_key(email) + ":lock"});
}

}  // namespace

TEST_CASE("logins lock an account after repeated failures, longer each time, until a success",
          "[gateway][security][limits]") {
  auto options = test_gateway_options();
  options.limits.per_account = {3, std::chrono::seconds(600), std::chrono::seconds(30),
                                std::chrono::seconds(100)};
  gateway_env env(options);
  auto r = redis();
  auto mara = env.sign_up("lockout-mara");
  auto other = env.sign_up("lockout-other");
  const std::string ghost = "lockout-ghost@example.com";  // no account
  for (const auto& email : {mara.email, other.email, ghost}) {
    forget_account(r, email);
  }

  for (int i = 0; i < 3; ++i) {
    CHECK(login(env, mara.email, "wrong-password").status == 401);
  }
  // Locked: even the right password waits, so guessing gains nothing.
  auto locked = login(env, mara.email, mara.password);
  CHECK(locked.status == 429);
  CHECK(locked.error_code() == "rate_limited");
  int first = retry_after(locked);
  CHECK(first > 20);
  CHECK(first <= 30);
  // The same account in another spelling is the same lock.
  CHECK(login(env, "  LOCKOUT-MARA@example.com", mara.password).status == 429);
  // Another account is not touched.
  CHECK(login(env, other.email, other.password).status == 200);

  // Each attempt after a lock doubles the next one, up to the longest.
  std::vector<int> waits;
  for (int i = 0; i < 3; ++i) {
    end_lock(r, mara.email);
    CHECK(login(env, mara.email, "wrong-password").status == 401);
    auto again = login(env, mara.email, "wrong-password");
    CHECK(again.status == 429);
    waits.push_back(retry_after(again));
  }
  REQUIRE(waits.size() == 3);
  CHECK(waits[0] > 50);
  CHECK(waits[0] <= 60);
  CHECK(waits[1] > 90);
  CHECK(waits[1] <= 100);  // 120 capped at max_lock
  CHECK(waits[2] > 90);
  CHECK(waits[2] <= 100);

  // A success forgets everything: the count starts over.
  end_lock(r, mara.email);
  CHECK(login(env, mara.email, mara.password).status == 200);
  auto key = gateway::login_account_key(mara.email);
  CHECK(r.command({"EXISTS", key + ":attempts"}).value() == "0");
  CHECK(r.command({"EXISTS", key + ":lock"}).value() == "0");
  for (int i = 0; i < 2; ++i) {
    CHECK(login(env, mara.email, "wrong-password").status == 401);
  }
  CHECK(login(env, mara.email, mara.password).status == 200);

  // An email without an account locks the same way: a 429 tells nothing
  // about which emails exist.
  for (int i = 0; i < 3; ++i) {
    CHECK(login(env, ghost, "wrong-password").status == 401);
  }
  CHECK(login(env, ghost, "wrong-password").status == 429);

  // Checking the current password to change it spends the same budget.
  for (int i = 0; i < 3; ++i) {
    CHECK(env.send("PUT", "/api/v1/users/me",
                   {{"password", "new-password-1"}, {"current_password", "wrong-password"}},
                   {other.auth()})
              .status == 403);
  }
  CHECK(login(env, other.email, other.password).status == 429);
  for (const auto& email : {mara.email, other.email, ghost}) {
    forget_account(r, email);
  }
}

TEST_CASE("X-Forwarded-For counts only when the connection comes from a trusted proxy",
          "[gateway][security][limits]") {
  auto r = redis();
  const std::string endpoint = ":POST /api/v1/auth/login";
  const std::vector<std::string> clients = {"203.0.113.7",   "203.0.113.8",   "203.0.113.9",
                                            "198.51.100.77", "198.51.100.78", "192.0.2.1"};
  for (const auto& c : clients) {
    (void)r.command({"DEL", "ratelimit:ip:" + c + endpoint});
  }

  SECTION("the test client (127.0.0.1) is a trusted proxy") {
    auto options = test_gateway_options();
    options.trusted_proxies = {"127.0.0.1/32"};
    options.limits.login_per_ip = 2;
    gateway_env env(options);
    auto from = [](const std::string& xff) { return "X-Forwarded-For: " + xff; };
    for (int i = 0; i < 2; ++i) {
      CHECK(login(env, "xff@example.com", "whatever1", {from("203.0.113.7")}).status == 401);
    }
    auto limited = login(env, "xff@example.com", "whatever1", {from("203.0.113.7")});
    CHECK(limited.status == 429);
    CHECK(retry_after(limited) >= 1);
    // Another client behind the same proxy has its own budget.
    CHECK(login(env, "xff@example.com", "whatever1", {from("203.0.113.8")}).status == 401);
    // The client cannot choose its address: what it sent stays left of what
    // the proxy appended, and the right-most untrusted address counts.
    CHECK(login(env, "xff@example.com", "whatever1", {from("192.0.2.1, 203.0.113.7")}).status ==
          429);
    // Trusted hops are skipped.
    CHECK(login(env, "xff@example.com", "whatever1", {from("203.0.113.9, 127.0.0.1")}).status ==
          401);
    CHECK(r.command({"EXISTS", "ratelimit:ip:203.0.113.9" + endpoint}).value() == "1");
    CHECK(r.command({"EXISTS", "ratelimit:ip:192.0.2.1" + endpoint}).value() == "0");
  }

  SECTION("the test client is not a trusted proxy") {
    auto options = test_gateway_options();
    options.trusted_proxies = {"10.0.0.0/8", "2001:db8::/32"};
    options.limits.login_per_ip = 1;
    gateway_env env(options);
    const std::string own = "ratelimit:ip:127.0.0.1" + endpoint;
    (void)r.command({"DEL", own});
    // Other test programs may log in from 127.0.0.1 meanwhile, so the first
    // answer may already be a 429; the second must be one.
    (void)login(env, "xff@example.com", "whatever1", {"X-Forwarded-For: 198.51.100.77"});
    auto second = login(env, "xff@example.com", "whatever1", {"X-Forwarded-For: 198.51.100.78"});
    CHECK(second.status == 429);
    CHECK(r.command({"EXISTS", "ratelimit:ip:198.51.100.77" + endpoint}).value() == "0");
    CHECK(r.command({"EXISTS", "ratelimit:ip:198.51.100.78" + endpoint}).value() == "0");
    (void)r.command({"DEL", own});
  }
  for (const auto& c : clients) {
    (void)r.command({"DEL", "ratelimit:ip:" + c + endpoint});
  }
}

TEST_CASE("a trusted_proxies entry that is not a network stops start-up, naming it",
          "[gateway][security]") {
  auto options = test_gateway_options();
  options.trusted_proxies = {"10.0.0.0/8", "proxy.internal/24"};
  CHECK_THROWS_WITH(gateway_env(options), Catch::Contains("'proxy.internal/24'") &&
                                              Catch::Contains("gateway.trusted_proxies"));
}

TEST_CASE("regenerate checks settings as render does: 422, and no job",
          "[gateway][security][jobs]") {
  gateway_env env;
  auto user = env.sign_up("regen");
  auto made =
      env.send("POST", "/api/v1/projects",
               {{"title", "Regen"}, {"script", "INT. ROOM - DAY\n\nA lamp.\n"}}, {user.auth()});
  REQUIRE(made.status == 201);
  const std::string id = made.json()["id"];
  const std::string regenerate = "/api/v1/projects/" + id + "/regenerate";
  auto no_render = [&] {
    auto cancel =
        env.send("POST", "/api/v1/projects/" + id + "/cancel", json::object(), {user.auth()});
    return cancel.status == 409 && cancel.error_code() == "no_render";
  };

  for (const auto& bad :
       {json{{"fps", "fast"}}, json{{"resolution", "huge"}}, json{{"watermark", "no"}},
        json{{"backend", 7}}, json{{"shots", "all"}}, json{{"characters", {{"MARA", 5}}}}}) {
    INFO(bad.dump());
    auto refused = env.send("POST", regenerate, {{"settings", bad}}, {user.auth()});
    CHECK(refused.status == 422);
    CHECK(refused.error_code() == "invalid_settings");
  }
  auto not_object = env.send("POST", regenerate, {{"settings", "fast"}}, {user.auth()});
  CHECK(not_object.status == 422);
  CHECK(no_render());

  // Settings stored before they were checked are checked now too.
  {
    pg_pool pool(env.dsn(), 1);
    project_repository projects(pool);
    project_changes changes;
    changes.settings_json = R"({"fps": "fast"})";
    REQUIRE(projects.update(user.id, id, changes));
  }
  auto stored = env.send("POST", regenerate, json::object(), {user.auth()});
  CHECK(stored.status == 422);
  CHECK(stored.error_code() == "invalid_settings");
  CHECK(no_render());

  // Good settings queue a job, priced as a render is.
  auto queued = env.send("POST", regenerate, {{"settings", {{"fps", 12}}}}, {user.auth()});
  CHECK(queued.status == 202);
  CHECK(queued.json()["job"]["kind"] == "regenerate");
  CHECK(queued.json()["plan"]["cost_credits"] == 3);
  CHECK_FALSE(no_render());

  // No screenplay: the same 422 a render gives.
  auto empty = env.send("POST", "/api/v1/projects", {{"title", "Empty"}}, {user.auth()});
  REQUIRE(empty.status == 201);
  auto blank =
      env.send("POST", "/api/v1/projects/" + empty.json()["id"].get<std::string>() + "/regenerate",
               json::object(), {user.auth()});
  CHECK(blank.status == 422);
  CHECK(blank.error_code() == "invalid_screenplay");
}
