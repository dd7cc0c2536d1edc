// Hostile input: what a careless or malicious client sends.
#include <catch2/catch.hpp>

#include "gateway_fixture.hpp"
#include "reelfarm/gateway/jwt.hpp"
#include "reelfarm/gateway/token_codec.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;

namespace {
std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string status_line(const std::string& raw) {
  return raw.substr(0, raw.find("\r\n"));
}
}  // namespace

TEST_CASE("malformed JSON and wrong types get clear 4xx errors", "[hostile]") {
  gateway_env env;
  auto user = env.sign_up("mallory");
  auto post = [&](const std::string& body, const std::string& type = "application/json") {
    return http_call("POST", env.url("/api/v1/projects"), body,
                     {user.auth(), "Content-Type: " + type});
  };
  auto broken = post("{\"title\": ");
  CHECK(broken.status == 400);
  CHECK(broken.error_code() == "malformed_json");
  CHECK(post("{\"title\": \"x\",}").status == 400);
  CHECK(post("{'title': 'x'}").status == 400);
  CHECK(post("null").status == 422);
  CHECK(post("[]").status == 422);
  CHECK(post(R"({"title": ["x"]})").status == 422);
  CHECK(post(R"({"title": "x", "settings": "not an object"})").status == 422);
  CHECK(post(R"({"title": "x", "user_id": "someone"})").status == 422);
  CHECK(post(R"({"title": "x"})", "text/plain").status == 415);
  CHECK(post(std::string(50000, '[')).status == 400);
  auto nul = post(R"({"title": "a\u0000b"})");
  CHECK(nul.status == 422);
  auto invalid_utf8 = post("{\"title\": \"\xc3\x28\"}");
  CHECK(invalid_utf8.status == 400);
  for (const auto& r : {broken, nul, invalid_utf8}) {
    auto j = r.json();
    REQUIRE(j.is_object());
    CHECK(j["error"]["message"].is_string());
  }
}

TEST_CASE("forged, expired and alg-none tokens are refused", "[hostile][auth]") {
  gateway_env env;
  auto user = env.sign_up("trudy");
  auto now = unix_now();
  auto me = [&](const std::string& token) {
    return env.get("/api/v1/users/me", {"Authorization: Bearer " + token});
  };
  gateway::jwt_claims claims{user.id, "admin", "reelfarm", now, now + 3600};
  // Signed with another key.
  CHECK(me(gateway::jwt_sign(claims, "attacker-key-attacker-key-attacker")).status == 401);
  // alg none with no signature, claiming admin.
  auto header = gateway::base64url_encode(R"({"alg":"none","typ":"JWT"})");
  auto body = gateway::base64url_encode(nlohmann::json{
      {"sub", user.id}, {"role", "admin"}, {"iss", "reelfarm"}, {"iat", now}, {"exp", now + 3600}}
                                            .dump());
  auto none = me(header + "." + body + ".");
  CHECK(none.status == 401);
  CHECK(none.error_code() == "invalid_token");
  CHECK(none.headers["www-authenticate"].starts_with("Bearer"));
  // Correct key, but expired.
  const std::string key = test_gateway_options().jwt_secret;
  auto expired =
      me(gateway::jwt_sign({user.id, "creator", "reelfarm", now - 7200, now - 3600}, key));
  CHECK(expired.status == 401);
  CHECK(expired.error_code() == "token_expired");
  // Correct key, wrong issuer; unknown role; garbage.
  CHECK(me(gateway::jwt_sign({user.id, "creator", "other", now, now + 60}, key)).status == 401);
  CHECK(me(gateway::jwt_sign({user.id, "root", "reelfarm", now, now + 60}, key)).status == 401);
  CHECK(me("not.a.token").status == 401);
  CHECK(me(std::string(5000, 'a')).status == 401);
  CHECK(env.get("/api/v1/users/me", {"Authorization: Basic dXNlcjpwdw=="}).status == 401);
  CHECK(env.get("/api/v1/users/me", {"Authorization: Bearer"}).status == 401);
  // A valid creator token forged into admin by editing the payload.
  auto real = user.access;
  auto first = real.find('.');
  auto second = real.find('.', first + 1);
  auto forged = real.substr(0, first) + "." + body + real.substr(second);
  CHECK(me(forged).status == 401);
  CHECK(env.get("/api/v1/admin/users", {"Authorization: Bearer " + forged}).status == 401);
}

TEST_CASE("SQL metacharacters are data, never SQL", "[hostile]") {
  gateway_env env;
  auto user = env.sign_up("bobby");
  std::string evil = "Robert'); DROP TABLE projects; -- \" \\ %_ $1";
  auto made =
      env.send("POST", "/api/v1/projects", {{"title", evil}, {"script", evil}}, {user.auth()});
  REQUIRE(made.status == 201);
  auto id = made.json()["id"].get<std::string>();
  CHECK(env.get("/api/v1/projects/" + id, {user.auth()}).json()["title"] == evil);
  CHECK(env.get("/api/v1/projects/'OR'1'='1", {user.auth()}).status == 404);
  CHECK(env.get("/api/v1/projects/%27%20OR%20%271%27=%271", {user.auth()}).status == 404);
  CHECK(env.get("/api/v1/projects?limit=1;DROP%20TABLE%20users", {user.auth()}).status == 400);
  CHECK(env.send("POST", "/api/v1/auth/login",
                 {{"email", "' OR 1=1 --"}, {"password", "x' OR '1'='1"}})
            .status == 401);
  CHECK(env.get("/api/v1/projects", {user.auth()}).json()["total"] == 1);
}

TEST_CASE("path traversal and odd targets never reach a file", "[hostile]") {
  gateway_env env;
  auto user = env.sign_up("eve");
  for (const char* path : {"/api/v1/projects/..%2F..%2Fetc%2Fpasswd", "/api/v1/../../etc/passwd",
                           "/api/v1/projects/%2e%2e", "/api/openapi.json/../../etc/passwd",
                           "/api/v1/projects/x/media/..%2f..%2fetc%2fpasswd"}) {
    INFO(path);
    auto r = raw_exchange(
        env.port(), {std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                     user.access + "\r\nConnection: close\r\n\r\n"});
    CHECK(r.find("root:") == std::string::npos);
    CHECK((r.starts_with("HTTP/1.1 404") || r.starts_with("HTTP/1.1 501")));
  }
}

TEST_CASE("huge bodies and headers are refused early", "[hostile]") {
  gateway_env env;
  auto user = env.sign_up("oscar");
  // Declared too large: answered from the header, the body is never read.
  auto declared = raw_exchange(env.port(), {"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                                            "Content-Type: application/json\r\n"
                                            "Content-Length: 999999999\r\n\r\n{"});
  CHECK(status_line(declared).starts_with("HTTP/1.1 413"));
  CHECK(declared.find("body_too_large") != std::string::npos);
  // Chunked past the limit.
  std::string chunk(70000, 'a');
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
  auto chunked = raw_exchange(env.port(), {"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                                           "Content-Type: application/json\r\n"
                                           "Transfer-Encoding: chunked\r\n\r\n" +
                                           std::string(size) + chunk + "\r\n0\r\n\r\n"});
  CHECK(status_line(chunked).starts_with("HTTP/1.1 413"));
  // Screenplays may be bigger than JSON bodies elsewhere, within the upload limit.
  auto big_script =
      env.send("POST", "/api/v1/projects",
               {{"title", "long"}, {"script", std::string(200 * 1024, 'x')}}, {user.auth()});
  CHECK(big_script.status == 201);
  auto too_big =
      env.send("POST", "/api/v1/projects",
               {{"title", "long"}, {"script", std::string(300 * 1024, 'x')}}, {user.auth()});
  CHECK(too_big.status == 413);
  // Header over 8 KiB.
  auto header = raw_exchange(env.port(), {"GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                          std::string(10000, 'a') + "\r\n\r\n"});
  CHECK(status_line(header).starts_with("HTTP/1.1 431"));
}

TEST_CASE("protocol garbage gets 400 and a closed connection", "[hostile]") {
  gateway_env env;
  for (const std::string& junk :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        std::string("GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                    "Content-Length: 2\r\n\r\nab"),
        std::string("GET /api/v1/healthz HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n"}) {
    bool closed = false;
    auto r = raw_exchange(env.port(), {junk}, std::chrono::seconds(3), std::chrono::milliseconds(0),
                          &closed);
    CHECK(status_line(r).starts_with("HTTP/1.1 400"));
    CHECK(r.find("\"error\"") != std::string::npos);
    CHECK(closed);
  }
}

TEST_CASE("slow headers are cut off (slowloris)", "[hostile]") {
  gateway_env env;  // header_timeout 1.5 s in tests
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  std::vector<std::string> drip;
  for (int i = 0; i < 40; ++i) {
    drip.push_back(i == 0 ? "GET /api/v1/healthz HTTP/1.1\r\n" : "X-A: b\r\n");
  }
  auto r = raw_exchange(env.port(), drip, std::chrono::seconds(6), std::chrono::milliseconds(100),
                        &closed);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(closed);
  CHECK(took < std::chrono::seconds(8));
  CHECK((r.empty() || r.starts_with("HTTP/1.1 408")));
  // A well-behaved client is still served meanwhile.
  CHECK(env.get("/api/v1/healthz").status == 200);
}

TEST_CASE("wrong methods get 405 with Allow", "[hostile]") {
  gateway_env env;
  auto r = http_call("PATCH", env.url("/api/v1/projects"));
  CHECK(r.status == 405);
  CHECK(r.headers["allow"] == "GET, POST");
  CHECK(http_call("TRACE", env.url("/api/v1/healthz")).status == 405);
}
