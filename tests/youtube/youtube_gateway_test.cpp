// The YouTube routes of the HTTP API (handled without a socket) on a real
// PostgreSQL, with the local YouTube as Google: connect through the consent
// page and the callback, publish with every validation, the upload worker
// running the queued upload, the listing, quota and disconnect.
#include <fstream>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "reelfarm/gateway/api.hpp"
#include "reelfarm/testing/services.hpp"
#include "reelfarm/testing/temp_dir.hpp"
#include "reelfarm/youtube/http_client.hpp"
#include "reelfarm/youtube/upload_worker.hpp"
#include "support/local_youtube.hpp"

using namespace reelfarm;
using reelfarm::testing::local_youtube;

namespace {

struct reply {
  int status = 0;
  nlohmann::json body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  std::map<std::string, std::string> headers;
  std::string code() const { return body.value("/error/code"_json_pointer, std::string()); }
};

class api_env {
 public:
  explicit api_env(bool enabled) {
    gateway::gateway_options o;
    o.jwt_secret = "test-secret-test-secret-test-secret-0123456789";
    o.password_ops = 1;
    o.password_memory = 8u << 20;
    // The run's Redis is shared and every test calls from 127.0.0.1: the
    // default per-IP sign-up limit would refuse the later tests (429).
    o.limits.per_user = 100000;
    o.limits.per_ip = 100000;
    o.limits.login_per_ip = 100000;
    gateway::gateway_backends b;
    b.postgres_dsn = db.dsn();
    b.redis_url = reelfarm::testing::test_services().redis_url;
    b.postgres_pool_size = 4;
    b.media_dir = media.path();
    if (enabled) {
      b.youtube = yt.options();
      b.youtube.chunk_size = 256 * 1024;
    }
    youtube = b.youtube;
    auto made = gateway::api::create(o, b);
    REQUIRE(made);
    api = std::move(*made);
  }

  reply call(const std::string& method, const std::string& target, const std::string& token = {},
             const std::string& body = {},
             const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    gateway::http_request r;
    r.method = method;
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    r.query = q == std::string::npos ? std::string() : target.substr(q + 1);
    r.remote_ip = "127.0.0.1";
    if (!token.empty()) {
      r.headers.emplace_back("authorization", "Bearer " + token);
    }
    if (!body.empty()) {
      r.headers.emplace_back("content-type", "application/json");
      r.body = body;
    }
    r.headers.insert(r.headers.end(), headers.begin(), headers.end());
    auto res = api->handle(r);
    reply out{res.status, nlohmann::json::parse(res.body, nullptr, false), {}};
    for (const auto& [k, v] : res.headers) {
      out.headers[k] = v;
    }
    return out;
  }

  // A user through the API; their id and access token.
  std::pair<std::string, std::string> sign_up(const std::string& name) {
    auto r = call("POST", "/api/v1/auth/register", {},
                  nlohmann::json{{"email", name + "@example.com"},
                                 {"password", "pw-" + name + "-secret"},
                                 {"full_name", name}}
                      .dump());
    REQUIRE(r.status == 201);
    return {r.body["user"]["id"], r.body["access_token"]};
  }

  // A project of `user` in `status`, with a film and thumbnail when complete.
  std::string project(const std::string& user, const std::string& status) {
    pqxx::connection conn(db.dsn());
    pqxx::work tx(conn);
    auto id = tx.exec_params1(
                    "INSERT INTO projects (user_id, title, status) VALUES ($1::uuid, "
                    "'A film', $2) RETURNING id::text",
                    user, status)[0]
                  .as<std::string>();
    if (status == "complete") {
      auto folder = "users/" + user + "/projects/" + id + "/final";
      std::filesystem::create_directories(media.path() / folder);
      std::ofstream(media.path() / folder / "film.mp4", std::ios::binary)
          << std::string(700000, 'f');
      std::ofstream(media.path() / folder / "thumbnail.jpg", std::ios::binary)
          << "\xff\xd8\xff\xe0 thumb";
      tx.exec_params("UPDATE projects SET video_url = $2, thumbnail_url = $3 WHERE id = $1::uuid",
                     id, folder + "/film.mp4", folder + "/thumbnail.jpg");
    }
    tx.commit();
    return id;
  }

  reelfarm::testing::scratch_database db;
  reelfarm::testing::temp_dir media;
  local_youtube yt;
  youtube::youtube_options youtube;
  std::unique_ptr<gateway::api> api;
};

// The browser's OAuth cookie a connect answer set, as a Cookie header.
std::pair<std::string, std::string> oauth_cookie(const reply& consent) {
  auto set = consent.header("Set-Cookie");
  REQUIRE(set.starts_with("reelfarm_oauth="));
  return {"cookie", set.substr(0, set.find(';'))};
}

std::string query_value(const std::string& url, const std::string& key) {
  auto at = url.find(key + "=");
  auto end = url.find('&', at);
  return gateway::percent_decode(url.substr(at + key.size() + 1, end - at - key.size() - 1), true)
      .value_or("");
}

}  // namespace

TEST_CASE("the YouTube routes answer 503 when publishing is not configured", "[youtube][api]") {
  api_env env(false);
  auto [user, token] = env.sign_up("carol");
  auto r = env.call("GET", "/api/v1/youtube/connect", token);
  CHECK(r.status == 503);
  CHECK(r.code() == "youtube_disabled");
  CHECK(env.call("GET", "/api/v1/youtube/videos", token).status == 200);
}

TEST_CASE("the OAuth state is bound to the browser that asked, and good once",
          "[youtube][api][oauth]") {
  api_env env(true);
  auto [alice, alice_token] = env.sign_up("alice");
  auto [bob, bob_token] = env.sign_up("bob");
  auto consent = env.call("GET", "/api/v1/youtube/connect", alice_token);
  REQUIRE(consent.status == 200);
  // The nonce: HttpOnly, Lax (Google's redirect is a cross-site navigation),
  // sent to the callback only, gone with the state. Plain http to the
  // loopback here, so not Secure; behind https it is.
  auto set = consent.header("Set-Cookie");
  CHECK_THAT(set, Catch::Contains("HttpOnly") && Catch::Contains("SameSite=Lax") &&
                      Catch::Contains("Path=/api/v1/youtube/callback") &&
                      Catch::Contains("Max-Age=600"));
  const auto alice_browser = oauth_cookie(consent);
  CHECK(alice_browser.second.size() > std::string("reelfarm_oauth=").size() + 32);
  const std::string url = consent.body["url"];
  const auto state = query_value(url, "state");
  CHECK(state.find(alice_browser.second.substr(15)) == std::string::npos);
  const auto code = env.yt.consent(url, state);
  const auto target = "/api/v1/youtube/callback?code=" + youtube::url_encode(code) +
                      "&state=" + youtube::url_encode(state);
  auto refused = [&](const reply& r, const std::string& why) {
    INFO(r.body.dump());
    CHECK(r.status == 400);
    CHECK(r.code() == "invalid_state");
    CHECK_THAT(r.body["error"]["message"].get<std::string>(), Catch::Contains(why));
  };

  // The state used from another browser: no cookie, or another consent's.
  refused(env.call("GET", target), "not started in this browser");
  auto bobs = env.call("GET", "/api/v1/youtube/connect", bob_token);
  refused(env.call("GET", target, {}, {}, {oauth_cookie(bobs)}), "not started in this browser");
  refused(env.call("GET", target, {}, {}, {{"cookie", "reelfarm_oauth=forged"}}),
          "not started in this browser");
  // The right browser, but signed in as someone else.
  refused(env.call("GET", target, bob_token, {}, {alice_browser}), "another user");
  CHECK(env.call("GET", "/api/v1/youtube/videos", alice_token).status == 200);

  // The good path: the browser that asked, signed in as the same user.
  auto connected = env.call("GET", target, alice_token, {}, {alice_browser});
  INFO(connected.body.dump());
  REQUIRE(connected.status == 200);
  CHECK(connected.body["connected"] == true);

  // The same state a second time, even from the right browser.
  refused(env.call("GET", target, {}, {}, {alice_browser}), "already used");
  auto again = env.yt.consent(url, state);  // a fresh code does not help
  refused(env.call("GET",
                   "/api/v1/youtube/callback?code=" + youtube::url_encode(again) +
                       "&state=" + youtube::url_encode(state),
                   {}, {}, {alice_browser}),
          "already used");
}

TEST_CASE("connect, publish, upload, list, disconnect through the API", "[youtube][api]") {
  api_env env(true);
  auto [alice, alice_token] = env.sign_up("alice");
  auto [bob, bob_token] = env.sign_up("bob");
  CHECK(env.call("GET", "/api/v1/youtube/connect").status == 401);

  auto consent = env.call("GET", "/api/v1/youtube/connect", alice_token);
  REQUIRE(consent.status == 200);
  const std::string url = consent.body["url"];
  CHECK_THAT(url, Catch::Contains("access_type=offline") && Catch::Contains("prompt=consent"));
  const auto state = query_value(url, "state");
  const auto code = env.yt.consent(url, state);
  const auto browser = oauth_cookie(consent);

  // Callbacks that must not connect anything.
  CHECK(env.call("GET", "/api/v1/youtube/callback?error=access_denied&state=x").code() ==
        "consent_denied");
  CHECK(env.call("GET", "/api/v1/youtube/callback?state=" + state).status == 400);
  auto forged = state;
  forged[0] = forged[0] == 'a' ? 'b' : 'a';  // another user's id, same signature
  auto refused = env.call(
      "GET", "/api/v1/youtube/callback?code=" + youtube::url_encode(code) + "&state=" + forged);
  CHECK(refused.status == 400);
  CHECK(refused.code() == "invalid_state");
  {
    // A code Google did not issue (with a state of its own: each is good once).
    auto other = env.call("GET", "/api/v1/youtube/connect", alice_token);
    auto other_state = query_value(other.body["url"], "state");
    CHECK(env.call("GET",
                   "/api/v1/youtube/callback?code=4%2Fnot-issued&state=" +
                       youtube::url_encode(other_state),
                   {}, {}, {oauth_cookie(other)})
              .code() == "invalid_grant");
  }

  // A project can only be published by its owner, with a film, once connected.
  auto film = env.project(alice, "complete");
  auto draft = env.project(alice, "pending");
  auto body = nlohmann::json{{"title", "My first film"},     {"description", "made by reelfarm"},
                             {"tags", {"ai", "short film"}}, {"privacy_status", "unlisted"},
                             {"playlist", "Reelfarm"},       {"create_playlist", true}};
  auto not_connected =
      env.call("POST", "/api/v1/projects/" + film + "/youtube", alice_token, body.dump());
  CHECK(not_connected.status == 409);
  CHECK(not_connected.code() == "youtube_not_connected");

  auto connected = env.call("GET",
                            "/api/v1/youtube/callback?code=" + youtube::url_encode(code) +
                                "&state=" + youtube::url_encode(state),
                            {}, {}, {browser});
  REQUIRE(connected.status == 200);
  CHECK_THAT(connected.header("Set-Cookie"),
             Catch::Contains("reelfarm_oauth=;") && Catch::Contains("Max-Age=0"));
  CHECK(connected.body["connected"] == true);
  CHECK(connected.body["channel_id"] == env.yt.read("stats")["channel"]["id"]);

  CHECK(env.call("POST", "/api/v1/projects/" + film + "/youtube", bob_token, body.dump()).status ==
        404);
  auto no_film =
      env.call("POST", "/api/v1/projects/" + draft + "/youtube", alice_token, body.dump());
  CHECK(no_film.status == 409);
  for (const auto& bad :
       {nlohmann::json{{"privacy_status", "secret"}}, nlohmann::json{{"title", "a <b> title"}},
        nlohmann::json{{"title", std::string(101, 'x')}}, nlohmann::json{{"title", "   "}},
        nlohmann::json{{"tags", "ai"}}, nlohmann::json{{"tags", {1, 2}}},
        nlohmann::json{{"tags", std::vector<std::string>(60, "abcdefghij")}},
        nlohmann::json{{"create_playlist", true}},
        nlohmann::json{{"playlist", "not a playlist id!"}}, nlohmann::json{{"unknown", 1}}}) {
    INFO(bad.dump());
    CHECK(
        env.call("POST", "/api/v1/projects/" + film + "/youtube", alice_token, bad.dump()).status ==
        422);
  }

  auto queued = env.call("POST", "/api/v1/projects/" + film + "/youtube", alice_token, body.dump());
  REQUIRE(queued.status == 202);
  CHECK(queued.body["status"] == "pending");
  CHECK_FALSE(queued.body.contains("session_uri"));
  const std::string upload = queued.body["id"];
  CHECK(queued.header("Location") == "/api/v1/youtube/videos/" + upload);
  CHECK(
      env.call("POST", "/api/v1/projects/" + film + "/youtube", alice_token, body.dump()).status ==
      409);  // one live upload per project

  // The coordinator's worker runs it.
  youtube::upload_worker_options wo;
  wo.youtube = env.youtube;
  wo.postgres_dsn = env.db.dsn();
  wo.media_dir = env.media.path();
  auto worker = youtube::upload_worker::create(wo);
  REQUIRE(worker);
  REQUIRE(*(*worker)->run_once());

  auto listed = env.call("GET", "/api/v1/youtube/videos", alice_token);
  REQUIRE(listed.status == 200);
  REQUIRE(listed.body["items"].size() == 1);
  const auto& item = listed.body["items"][0];
  INFO(item.dump());
  CHECK(item["status"] == "complete");
  CHECK(item["url"] == "https://www.youtube.com/watch?v=" + item["video_id"].get<std::string>());
  CHECK_FALSE(item["playlist_id"].is_null());
  CHECK_FALSE(item["thumbnail_url"].is_null());
  CHECK(item["bytes_sent"] == 700000);
  CHECK(env.call("GET", "/api/v1/youtube/videos", bob_token).body["items"].empty());
  CHECK(env.call("GET", "/api/v1/youtube/videos/" + upload, bob_token).status == 404);
  CHECK(env.call("GET", "/api/v1/youtube/videos/" + upload, alice_token).status == 200);

  // Today's uploads are spent: a clear error before anything is queued.
  {
    pqxx::connection conn(env.db.dsn());
    pqxx::work tx(conn);
    tx.exec("UPDATE youtube_quota SET used = 100 WHERE bucket = 'videos.insert'");
    tx.commit();
  }
  auto second = env.project(alice, "complete");
  auto spent = env.call("POST", "/api/v1/projects/" + second + "/youtube", alice_token, "{}");
  CHECK(spent.status == 429);
  CHECK(spent.code() == "quota_exceeded");
  CHECK_THAT(spent.body["error"]["message"].get<std::string>(), Catch::Contains("Pacific Time"));

  auto gone = env.call("DELETE", "/api/v1/youtube/connection", alice_token);
  REQUIRE(gone.status == 200);
  CHECK(gone.body["revoked"] == true);
  CHECK(env.call("DELETE", "/api/v1/youtube/connection", alice_token).status == 404);
  CHECK(env.yt.read("stats")["revocations"] == 1);
}
