// Browser sessions of the web console: HttpOnly cookies, the CSRF rule,
// refresh and logout through cookies; the bearer flow beside them.
#include <catch2/catch.hpp>

#include "gateway_fixture.hpp"

using namespace reelfarm::testing;
using json = nlohmann::json;

namespace {

const std::string console = "X-Requested-With: reelfarm-console";

/// A reply with every Set-Cookie header (the fixture's map keeps one).
struct cookie_reply {
  long status = 0;
  std::string body;
  std::vector<std::string> set_cookies;

  json parsed() const { return json::parse(body, nullptr, false); }
  /// The Set-Cookie header for cookie `name` ("" when none).
  std::string cookie(const std::string& name) const {
    for (const auto& c : set_cookies) {
      if (c.starts_with(name + "=")) {
        return c;
      }
    }
    return {};
  }
  /// The value the server set for cookie `name`.
  std::string value(const std::string& name) const {
    auto c = cookie(name);
    auto start = name.size() + 1;
    return c.empty() ? std::string() : c.substr(start, c.find(';') - start);
  }
  std::string error_code() const {
    auto j = parsed();
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }
};

std::size_t collect_set_cookie(char* data, std::size_t size, std::size_t n, void* out) {
  std::string line(data, size * n);
  static const std::string prefix = "set-cookie:";
  if (line.size() > prefix.size()) {
    std::string head = line.substr(0, prefix.size());
    for (auto& c : head) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (head == prefix) {
      auto value = line.substr(prefix.size());
      value.erase(0, value.find_first_not_of(' '));
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
        value.pop_back();
      }
      static_cast<std::vector<std::string>*>(out)->push_back(value);
    }
  }
  return size * n;
}

cookie_reply call(gateway_env& env, const std::string& method, const std::string& path,
                  const std::string& body, std::vector<std::string> headers) {
  cookie_reply reply;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  if (!body.empty()) {
    headers.push_back("Content-Type: application/json");
  }
  for (const auto& h : headers) {
    list = curl_slist_append(list, h.c_str());
  }
  list = curl_slist_append(list, "Expect:");
  auto url = env.url(path);
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_set_cookie);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.set_cookies);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return reply;
}

/// A console sign-up: the cookies' values.
struct browser {
  std::string access;
  std::string refresh;
  std::string cookies() const {
    return "Cookie: reelfarm_access=" + access + "; reelfarm_refresh=" + refresh;
  }
};

browser console_sign_up(gateway_env& env, const std::string& name) {
  auto r =
      call(env, "POST", "/api/v1/auth/register",
           json{{"email", name + "@example.com"}, {"password", "pw-" + name + "-secret"}}.dump(),
           {console});
  REQUIRE(r.status == 201);
  return {r.value("reelfarm_access"), r.value("reelfarm_refresh")};
}

}  // namespace

TEST_CASE("console sign-up and login set HttpOnly SameSite=Strict cookies, not body tokens",
          "[gateway][cookies]") {
  gateway_env env;
  auto r = call(env, "POST", "/api/v1/auth/register",
                json{{"email", "cookie@example.com"}, {"password", "pw-cookie-secret"}}.dump(),
                {console});
  REQUIRE(r.status == 201);
  auto body = r.parsed();
  CHECK_FALSE(body.contains("access_token"));
  CHECK_FALSE(body.contains("refresh_token"));
  CHECK(body["token_type"] == "cookie");
  CHECK(body["expires_in"] == 900);
  CHECK(body["user"]["email"] == "cookie@example.com");
  REQUIRE(r.set_cookies.size() == 2);

  auto access = r.cookie("reelfarm_access");
  CHECK(access.find("; Path=/;") != std::string::npos);
  CHECK(access.find("; Max-Age=900") != std::string::npos);
  CHECK(access.find("; HttpOnly") != std::string::npos);
  CHECK(access.find("; SameSite=Strict") != std::string::npos);
  CHECK(access.find("Secure") == std::string::npos);  // plain http
  auto refresh = r.cookie("reelfarm_refresh");
  CHECK(refresh.find("; Path=/api/v1/auth;") != std::string::npos);
  CHECK(refresh.find("; Max-Age=2592000") != std::string::npos);
  CHECK(refresh.find("; HttpOnly") != std::string::npos);
  CHECK(refresh.find("; SameSite=Strict") != std::string::npos);
  CHECK(r.value("reelfarm_access").size() > 40);
  CHECK(r.value("reelfarm_refresh").size() > 20);

  // Behind a TLS proxy the cookies are Secure.
  auto secure = call(env, "POST", "/api/v1/auth/login",
                     json{{"email", "cookie@example.com"}, {"password", "pw-cookie-secret"}}.dump(),
                     {console, "X-Forwarded-Proto: https"});
  REQUIRE(secure.status == 200);
  CHECK(secure.cookie("reelfarm_access").find("; Secure") != std::string::npos);
  CHECK(secure.cookie("reelfarm_refresh").find("; Secure") != std::string::npos);
}

TEST_CASE("the bearer flow is unchanged: tokens in the body, no cookies", "[gateway][cookies]") {
  gateway_env env;
  auto r = call(env, "POST", "/api/v1/auth/register",
                json{{"email", "bearer@example.com"}, {"password", "pw-bearer-secret"}}.dump(), {});
  REQUIRE(r.status == 201);
  CHECK(r.set_cookies.empty());
  CHECK(r.parsed()["token_type"] == "Bearer");
  CHECK(r.parsed().contains("access_token"));
  auto refreshed = call(env, "POST", "/api/v1/auth/refresh", "{}", {});
  CHECK(refreshed.status == 422);  // an API client must name its refresh token
}

TEST_CASE("the access cookie authorizes GET, and unsafe methods only with the console header",
          "[gateway][cookies]") {
  gateway_env env;
  auto b = console_sign_up(env, "csrf");
  auto access_only = "Cookie: reelfarm_access=" + b.access;

  CHECK(call(env, "GET", "/api/v1/users/me", {}, {access_only}).status == 200);
  CHECK(call(env, "GET", "/api/v1/users/me", {}, {}).status == 401);

  // A cross-site form post carries the cookie (were SameSite ignored) but
  // cannot add the header: refused before anything happens.
  auto forged =
      call(env, "POST", "/api/v1/projects", json{{"title", "forged"}}.dump(), {access_only});
  CHECK(forged.status == 403);
  CHECK(forged.error_code() == "csrf_refused");
  CHECK(call(env, "GET", "/api/v1/projects", {}, {access_only}).parsed()["total"] == 0);
  auto del = call(env, "DELETE", "/api/v1/projects/00000000-0000-0000-0000-000000000000", {},
                  {access_only});
  CHECK(del.status == 403);

  auto made =
      call(env, "POST", "/api/v1/projects", json{{"title", "mine"}}.dump(), {access_only, console});
  CHECK(made.status == 201);

  // A bad cookie is a 401, like a bad token.
  CHECK(call(env, "GET", "/api/v1/users/me", {}, {"Cookie: reelfarm_access=garbage"}).status ==
        401);
}

TEST_CASE("console refresh rotates the cookies, and logout clears them and ends the session",
          "[gateway][cookies]") {
  gateway_env env;
  auto b = console_sign_up(env, "rotate");

  // Without the console header the refresh cookie is not used.
  CHECK(call(env, "POST", "/api/v1/auth/refresh", "{}", {b.cookies()}).status == 422);

  auto r = call(env, "POST", "/api/v1/auth/refresh", "{}", {b.cookies(), console});
  REQUIRE(r.status == 200);
  CHECK_FALSE(r.parsed().contains("refresh_token"));
  browser next{r.value("reelfarm_access"), r.value("reelfarm_refresh")};
  CHECK_FALSE(next.refresh.empty());
  CHECK(next.refresh != b.refresh);
  CHECK(call(env, "GET", "/api/v1/users/me", {}, {next.cookies()}).status == 200);

  // The rotated cookie presented again is theft: refused, cookies cleared.
  auto reused = call(env, "POST", "/api/v1/auth/refresh", "{}", {b.cookies(), console});
  CHECK(reused.status == 401);
  CHECK(reused.cookie("reelfarm_access").find("Max-Age=0") != std::string::npos);

  auto again = console_sign_up(env, "logout");
  auto out = call(env, "POST", "/api/v1/auth/logout", "{}", {again.cookies(), console});
  CHECK(out.status == 204);
  REQUIRE(out.set_cookies.size() == 2);
  CHECK(out.cookie("reelfarm_access").find("reelfarm_access=;") == 0);
  CHECK(out.cookie("reelfarm_access").find("Max-Age=0") != std::string::npos);
  CHECK(out.cookie("reelfarm_refresh").find("Path=/api/v1/auth") != std::string::npos);
  CHECK(out.cookie("reelfarm_refresh").find("Max-Age=0") != std::string::npos);
  // The refresh token is revoked with its family.
  CHECK(call(env, "POST", "/api/v1/auth/refresh", "{}", {again.cookies(), console}).status == 401);
  // Logging out without a session still clears the cookies.
  auto empty = call(env, "POST", "/api/v1/auth/logout", "{}", {console});
  CHECK(empty.status == 204);
  CHECK(empty.set_cookies.size() == 2);
}
