// Browser sessions of the web console: tokens in HttpOnly cookies instead of
// script-readable storage, with a custom-header rule against CSRF.
#include <chrono>

#include "api_state.hpp"
#include "reelfarm/gateway/jwt.hpp"

namespace reelfarm::gateway {

namespace {

// Secure unless the request is plain http to the loopback (cookies_secure).
// A request says it came over https through the proxy's X-Forwarded-Proto or
// an https Origin; trusting the client's word here is harmless, as a wrong
// Secure flag only keeps its own cookie from being sent over plain http.
bool secure_cookie(const api_state& s, const http_request& request) {
  auto proto = request.header("x-forwarded-proto");
  auto origin = request.header("origin");
  bool https =
      (proto && trim_blanks(*proto) == "https") || (origin && origin->starts_with("https://"));
  return cookies_secure(
      {s.options.secure_cookies, https, request.header("host"), request.remote_ip});
}

}  // namespace

std::string cookie_header(const api_state& s, const http_request& request, std::string_view name,
                          std::string_view value, std::string_view path, std::int64_t max_age,
                          std::string_view same_site) {
  std::string out(name);
  out += '=';
  out += value;
  out += "; Path=";
  out += path;
  out += "; Max-Age=" + std::to_string(max_age);
  out += "; HttpOnly; SameSite=";
  out += same_site;
  if (secure_cookie(s, request)) {
    out += "; Secure";
  }
  return out;
}

namespace {

std::string cookie(const api_state& s, const http_request& request, std::string_view name,
                   std::string_view value, std::string_view path, std::int64_t max_age) {
  return cookie_header(s, request, name, value, path, max_age, "Strict");
}

}  // namespace

bool from_console(const http_request& request) {
  auto value = request.header("x-requested-with");
  return value && trim_blanks(*value) == console_header_value;
}

std::optional<std::string> cookie_value(const http_request& request, std::string_view name) {
  // Every Cookie header counts: HTTP/2 proxies may split them.
  for (const auto& [key, value] : request.headers) {
    if (key != "cookie") {
      continue;
    }
    std::string_view rest = value;
    while (!rest.empty()) {
      auto end = rest.find(';');
      auto pair = trim_blanks(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      auto eq = pair.find('=');
      if (eq != std::string_view::npos && trim_blanks(pair.substr(0, eq)) == name) {
        auto v = trim_blanks(pair.substr(eq + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
          v = v.substr(1, v.size() - 2);
        }
        return std::string(v);
      }
    }
  }
  return std::nullopt;
}

std::variant<std::string, http_response> cookie_access_token(const http_request& request) {
  auto token = cookie_value(request, access_cookie);
  if (!token || token->empty()) {
    return std::string();
  }
  // GET and HEAD change nothing, and EventSource and <video src> cannot add
  // headers; every other method must prove it comes from the console's own
  // scripts, which a cross-site page cannot (the header forces a preflight
  // that CORS refuses).
  bool safe = request.method == "GET" || request.method == "HEAD";
  if (!safe && !from_console(request)) {
    return error_response(403, "csrf_refused",
                          "a cookie session needs the header 'X-Requested-With: reelfarm-console' "
                          "on " +
                              request.method + " requests");
  }
  return std::move(*token);
}

void set_session_cookies(const api_state& s, const http_request& request, http_response& response,
                         const std::string& access_token, const std::string& refresh_token) {
  response.headers.emplace_back("Set-Cookie", cookie(s, request, access_cookie, access_token, "/",
                                                     s.options.cookie_access_ttl.count()));
  response.headers.emplace_back("Set-Cookie",
                                cookie(s, request, refresh_cookie, refresh_token, "/api/v1/auth",
                                       s.options.refresh_ttl.count()));
}

void clear_session_cookies(const api_state& s, const http_request& request,
                           http_response& response) {
  response.headers.emplace_back("Set-Cookie", cookie(s, request, access_cookie, "", "/", 0));
  response.headers.emplace_back("Set-Cookie",
                                cookie(s, request, refresh_cookie, "", "/api/v1/auth", 0));
}

std::string issue_access_token(const api_state& s, const issued_refresh& who,
                               std::chrono::seconds ttl) {
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return jwt_sign({who.user_id, who.role, s.options.jwt_issuer, now, now + ttl.count(),
                   who.token_version, who.family},
                  s.jwt_secret);
}

std::string issue_access_token(const api_state& s, const issued_refresh& who) {
  return issue_access_token(s, who, s.options.access_ttl);
}

result<void> end_all_sessions(api_state& s, const std::string& user_id) {
  auto ended = s.refresh_tokens.end_sessions(user_id);
  s.token_versions.forget_user(user_id);
  if (!ended) {
    return std::move(ended).error();
  }
  return ok();
}

}  // namespace reelfarm::gateway
