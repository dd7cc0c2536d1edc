// Sign-up, login, token refresh and logout; users/me.
#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

#include "api_state.hpp"
#include "reelfarm/common/log.hpp"

namespace reelfarm::gateway {

namespace {

constexpr std::size_t min_password = 8;

std::string iso_time(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Deliberately loose: one '@' with text on both sides, no spaces or
// controls. The real check is the confirmation mail, not a regex.
bool plausible_email(const std::string& email) {
  auto at = email.find('@');
  if (at == 0 || at == std::string::npos || at + 1 >= email.size() ||
      email.find('@', at + 1) != std::string::npos) {
    return false;
  }
  for (unsigned char c : email) {
    if (c <= 0x20 || c == 0x7f) {
      return false;
    }
  }
  return true;
}

// The new pair: in the body for API clients; for the console in HttpOnly
// cookies only, so no script on the page can read (or leak) a token.
http_response token_pair(const api_state& s, const issued_refresh& refresh, int status,
                         std::optional<nlohmann::json> user, const http_request& req) {
  nlohmann::json body;
  http_response res;
  if (from_console(req)) {
    auto ttl = std::min(s.options.cookie_access_ttl, s.options.access_ttl);
    body = {{"token_type", "cookie"}, {"expires_in", ttl.count()}};
    res = json_response(status, {});
    set_session_cookies(s, req, res, issue_access_token(s, refresh, ttl), refresh.token);
  } else {
    body = {{"access_token", issue_access_token(s, refresh)},
            {"refresh_token", refresh.token},
            {"token_type", "Bearer"},
            {"expires_in", s.options.access_ttl.count()}};
    res = json_response(status, {});
  }
  if (user) {
    body["user"] = std::move(*user);
  }
  res.body = dump_json(body);
  res.set_header("Cache-Control", "no-store");
  return res;
}

http_response start_session(api_state& s, const user_account& user, int status,
                            const http_request& req) {
  auto refresh = s.refresh_tokens.issue(user.id);
  if (!refresh) {
    return from_error(refresh.error(), req);
  }
  return token_pair(s, *refresh, status, user_json(user), req);
}

http_response do_register(api_state& s, request_context& ctx) {
  static constexpr std::array<field_spec, 3> fields{{
      {"email", json_kind::string, true, 254},
      {"password", json_kind::string, true, 1024},
      {"full_name", json_kind::string, false, 200},
  }};
  return with_json(ctx.request, fields, [&](const nlohmann::json& body) {
    auto email = string_field(body, "email");
    auto password = string_field(body, "password");
    if (!plausible_email(email)) {
      return error_response(422, "validation_failed", "email is not a valid address");
    }
    if (password.size() < min_password) {
      return error_response(422, "validation_failed", "password must have at least 8 characters");
    }
    auto made = s.accounts.create({email, password, string_field(body, "full_name"), "creator"});
    if (!made) {
      return from_error(made.error(), ctx.request);
    }
    log::info("gateway", "user registered",
              {{"request_id", ctx.request.request_id}, {"user", made->id}});
    return start_session(s, *made, 201, ctx.request);
  });
}

http_response do_login(api_state& s, request_context& ctx) {
  static constexpr std::array<field_spec, 2> fields{{
      {"email", json_kind::string, true, 254},
      {"password", json_kind::string, true, 1024},
  }};
  return with_json(ctx.request, fields, [&](const nlohmann::json& body) {
    auto email = string_field(body, "email");
    // Counted per account before the password is checked, for known and
    // unknown emails alike, so a 429 says nothing about which exist.
    if (auto locked = account_backoff(s, email)) {
      return std::move(*locked);
    }
    auto user = s.accounts.login(email, string_field(body, "password"));
    if (!user) {
      return from_error(user.error(), ctx.request);
    }
    s.limiter.login_succeeded(email);
    return start_session(s, *user, 200, ctx.request);
  });
}

// Optional in the schema: the console sends its refresh token as a cookie
// (which its scripts cannot read) and an empty object as the body.
constexpr std::array<field_spec, 1> refresh_fields{{
    {"refresh_token", json_kind::string, false, 256},
}};

// The refresh token of the body, else the console's refresh cookie; nullopt
// when there is neither (API clients must send it in the body, as before).
std::optional<std::string> presented_refresh(const nlohmann::json& body, const http_request& req) {
  if (body.contains("refresh_token")) {
    return string_field(body, "refresh_token");
  }
  if (from_console(req)) {
    if (auto cookie = cookie_value(req, refresh_cookie); cookie && !cookie->empty()) {
      return cookie;
    }
  }
  return std::nullopt;
}

http_response missing_refresh() {
  return error_response(422, "validation_failed", "missing required field 'refresh_token'");
}

http_response do_refresh(api_state& s, request_context& ctx) {
  return with_json(ctx.request, refresh_fields, [&](const nlohmann::json& body) {
    auto token = presented_refresh(body, ctx.request);
    if (!token) {
      if (from_console(ctx.request)) {
        return error_response(401, "unauthenticated", "no session: sign in again");
      }
      return missing_refresh();
    }
    auto next = s.refresh_tokens.rotate(*token);
    if (!next) {
      auto res = from_error(next.error(), ctx.request);
      if (from_console(ctx.request) && res.status == 401) {
        clear_session_cookies(s, ctx.request, res);  // a dead session: stop sending it
      }
      return res;
    }
    return token_pair(s, *next, 200, std::nullopt, ctx.request);
  });
}

http_response do_logout(api_state& s, request_context& ctx) {
  return with_json(ctx.request, refresh_fields, [&](const nlohmann::json& body) {
    auto token = presented_refresh(body, ctx.request);
    bool console = from_console(ctx.request);
    if (!token && !console) {
      return missing_refresh();
    }
    if (token) {
      // The refresh token's whole family ends, and with it every access
      // token issued for this login session (their "sid"): replaying the
      // access token after logout is refused.
      auto done = s.refresh_tokens.revoke_family(*token);
      if (!done && !console) {
        return from_error(done.error(), ctx.request);
      }
      if (done) {
        s.token_versions.forget_session(done->user_id, done->family);
      }
    }
    // The console is signed out whatever became of its refresh token: a
    // page that asked to leave must not keep a session.
    http_response res;
    res.status = 204;
    res.content_type.clear();
    if (console) {
      clear_session_cookies(s, ctx.request, res);
    }
    return res;
  });
}

// Signs the caller out everywhere: every access token and refresh token of
// the user ends (token_version bump), on every device.
http_response do_logout_all(api_state& s, request_context& ctx) {
  if (auto r = end_all_sessions(s, ctx.caller->user_id); !r) {
    return from_error(r.error(), ctx.request);
  }
  log::info("gateway", "user signed out everywhere",
            {{"request_id", ctx.request.request_id}, {"user", ctx.caller->user_id}});
  http_response res;
  res.status = 204;
  res.content_type.clear();
  if (from_console(ctx.request) || cookie_value(ctx.request, access_cookie)) {
    clear_session_cookies(s, ctx.request, res);
  }
  return res;
}

http_response get_me(api_state& s, request_context& ctx) {
  auto user = s.accounts.get(ctx.caller->user_id);
  if (!user) {
    return from_error(user.error(), ctx.request);
  }
  return json_response(200, dump_json(user_json(*user)));
}

http_response put_me(api_state& s, request_context& ctx) {
  static constexpr std::array<field_spec, 4> fields{{
      {"full_name", json_kind::string, false, 200},
      {"data_sharing_opt_in", json_kind::boolean, false, 0},
      {"password", json_kind::string, false, 1024},
      {"current_password", json_kind::string, false, 1024},
  }};
  return with_json(ctx.request, fields, [&](const nlohmann::json& body) {
    auto user = s.accounts.get(ctx.caller->user_id);
    if (!user) {
      return from_error(user.error(), ctx.request);
    }
    if (body.contains("password")) {
      auto password = string_field(body, "password");
      if (password.size() < min_password) {
        return error_response(422, "validation_failed", "password must have at least 8 characters");
      }
      if (!body.contains("current_password")) {
        return error_response(422, "validation_failed",
                              "changing the password needs 'current_password'");
      }
      // The same budget as logins: a stolen access token must not become a
      // way to guess the password at the per-user request rate.
      if (auto locked = account_backoff(s, user->email)) {
        return std::move(*locked);
      }
      auto checked = s.accounts.login(user->email, string_field(body, "current_password"));
      if (!checked) {
        return error_response(403, "invalid_credentials", "current_password is wrong");
      }
      s.limiter.login_succeeded(user->email);
      if (auto r = s.accounts.set_password(user->id, password); !r) {
        return from_error(r.error(), ctx.request);
      }
      // Every session ends with the old password, this one included: all
      // access and refresh tokens issued so far are refused. The console
      // gets a fresh session in its cookies; API clients sign in again.
      if (auto r = end_all_sessions(s, user->id); !r) {
        return from_error(r.error(), ctx.request);
      }
    }
    if (auto opt = body.find("data_sharing_opt_in"); opt != body.end()) {
      if (auto r = s.directory.set_data_sharing(user->id, opt->get<bool>()); !r) {
        return from_error(r.error(), ctx.request);
      }
    }
    if (body.contains("full_name")) {
      if (auto r = s.directory.set_full_name(user->id, string_field(body, "full_name")); !r) {
        return from_error(r.error(), ctx.request);
      }
    }
    auto me = get_me(s, ctx);
    if (body.contains("password") && from_console(ctx.request) && me.status == 200) {
      auto fresh = s.refresh_tokens.issue(user->id);
      if (!fresh) {
        return from_error(fresh.error(), ctx.request);
      }
      auto ttl = std::min(s.options.cookie_access_ttl, s.options.access_ttl);
      set_session_cookies(s, ctx.request, me, issue_access_token(s, *fresh, ttl), fresh->token);
    }
    return me;
  });
}

}  // namespace

std::optional<http_response> account_backoff(api_state& s, const std::string& email) {
  auto d = s.limiter.login_attempt(email, s.options.limits.per_account);
  if (d.allowed) {
    return std::nullopt;
  }
  auto res = error_response(429, "rate_limited",
                            "too many sign-in attempts for this account; retry after " +
                                std::to_string(d.retry_after.count()) + " s");
  res.set_header("Retry-After", std::to_string(d.retry_after.count()));
  return res;
}

nlohmann::json user_json(const user_account& user) {
  nlohmann::json j = {{"id", user.id},
                      {"email", user.email},
                      {"full_name", user.full_name},
                      {"role", user.role},
                      {"plan", user.plan},
                      {"credits_balance", user.credits_balance},
                      {"credits_unlimited", user.credits_unlimited},
                      {"created_at", iso_time(user.created_at)}};
  j["last_login_at"] =
      user.last_login_at ? nlohmann::json(iso_time(*user.last_login_at)) : nlohmann::json(nullptr);
  j["data_sharing_opt_in"] = user.data_sharing_opt_in;
  j["data_sharing_opt_in_at"] = user.data_sharing_opt_in_at
                                    ? nlohmann::json(iso_time(*user.data_sharing_opt_in_at))
                                    : nlohmann::json(nullptr);
  j["credits_reset_date"] = nullptr;
  if (user.credits_reset_date) {
    std::chrono::year_month_day day{*user.credits_reset_date};
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(day.year()),
                  static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
    j["credits_reset_date"] = buf;
  }
  return j;
}

void add_auth_routes(api_state& s) {
  auto bind = [&s](http_response (*f)(api_state&, request_context&)) {
    return [&s, f](request_context& ctx) { return f(s, ctx); };
  };
  auto& r = s.routes;
  r.add({"POST", "/api/v1/auth/register", access::anyone, limit_class::login, true,
         bind(do_register)});
  r.add({"POST", "/api/v1/auth/login", access::anyone, limit_class::login, true, bind(do_login)});
  r.add(
      {"POST", "/api/v1/auth/refresh", access::anyone, limit_class::login, true, bind(do_refresh)});
  r.add({"POST", "/api/v1/auth/logout", access::anyone, limit_class::login, true, bind(do_logout)});
  r.add({"POST", "/api/v1/auth/logout-all", access::creator, limit_class::standard, true,
         bind(do_logout_all)});
  r.add({"GET", "/api/v1/users/me", access::creator, limit_class::standard, true, bind(get_me)});
  r.add({"PUT", "/api/v1/users/me", access::creator, limit_class::standard, true, bind(put_me)});
}

}  // namespace reelfarm::gateway
