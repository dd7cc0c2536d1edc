#include "reelfarm/gateway/api.hpp"

#include <charconv>
#include <unordered_map>

#include "api_state.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/gateway/errc.hpp"
#include "reelfarm/gateway/gateway_probe.hpp"
#include "reelfarm/gateway/jwt.hpp"
#include "reelfarm/gateway/token_codec.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm::gateway {

namespace {

password_cost cost_from(const gateway_options& o) {
  auto cost = default_password_cost();
  if (o.password_ops > 0) {
    cost.ops = o.password_ops;
  }
  if (o.password_memory > 0) {
    cost.memory = o.password_memory;
  }
  return cost;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A client-supplied request id is kept only when it is short and plain, so
// it can go into logs and headers unescaped.
bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

const std::string* allowed_origin(const gateway_options& o, std::string_view origin) {
  for (const auto& allowed : o.cors_origins) {
    if (allowed == "*" || allowed == origin) {
      return &allowed;
    }
  }
  return nullptr;
}

void add_cors(const gateway_options& o, const http_request& req, http_response& res) {
  auto origin = req.header("origin");
  if (!origin || allowed_origin(o, *origin) == nullptr) {
    return;
  }
  res.set_header("Access-Control-Allow-Origin", std::string(*origin));
  res.set_header("Vary", "Origin");
  res.set_header("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, Location");
}

std::optional<http_response> preflight(const gateway_options& o, const http_request& req) {
  auto origin = req.header("origin");
  if (req.method != "OPTIONS" || !origin || !req.header("access-control-request-method")) {
    return std::nullopt;
  }
  http_response res;
  res.status = 204;
  res.content_type.clear();
  if (allowed_origin(o, *origin) != nullptr) {
    res.set_header("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS");
    res.set_header("Access-Control-Allow-Headers",
                   "Authorization, Content-Type, Idempotency-Key, X-Request-Id, Last-Event-ID");
    res.set_header("Access-Control-Max-Age", "600");
  }
  return res;
}

std::string bearer_token(const http_request& req) {
  auto value = req.header("authorization");
  if (!value || value->size() < 7) {
    return {};
  }
  auto scheme = std::string(value->substr(0, 7));
  for (auto& c : scheme) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return scheme == "bearer " ? std::string(value->substr(7)) : std::string();
}

http_response unauthorized(std::string_view code, std::string_view message) {
  auto res = error_response(401, code, message);
  res.set_header("WWW-Authenticate", "Bearer realm=\"reelfarm\"");
  return res;
}

// jwt_verify with a per-thread memo of tokens that verified: a token's
// signature, issuer and claims never change, so only its expiry needs
// checking again. Saves the HMAC and two JSON parses on repeat callers.
result<jwt_claims> verify_cached(const api_state& s, const std::string& token) {
  thread_local std::unordered_map<std::string, jwt_claims> memo;
  auto now = unix_now();
  if (auto it = memo.find(token); it != memo.end() && it->second.expires_at > now) {
    return it->second;
  }
  auto claims = jwt_verify(token, s.jwt_secret, s.options.jwt_issuer, now);
  if (claims) {
    if (memo.size() >= 4096) {
      memo.clear();
    }
    memo.emplace(token, *claims);
  }
  return claims;
}

// The user's current role and token version: from the cache when fresh,
// else PostgreSQL. nullopt when the user no longer exists.
result<std::optional<session_user>> current_user(api_state& s, const jwt_claims& claims) {
  auto now = token_version_cache::clock::now();
  if (auto cached = s.token_versions.fresh(claims.subject, claims.session, claims.version, now)) {
    return cached;
  }
  auto stored = s.directory.session_state(claims.subject, claims.session);
  if (stored && *stored) {
    s.token_versions.put(claims.subject, claims.session, **stored, now);
  }
  return stored;
}

// The caller an access token names, checked as every request checks it
// (signature, expiry, token version, session, the user's current role);
// the 401 otherwise.
std::variant<principal, http_response> check_token(api_state& s, const http_request& request,
                                                   const std::string& token) {
  auto claims = verify_cached(s, token);
  if (!claims) {
    bool expired = claims.error().is(gateway_errc::token_expired);
    return unauthorized(expired ? "token_expired" : "invalid_token", claims.error().message());
  }
  if (!is_uuid(claims->subject) || !is_uuid(claims->session) ||
      (claims->role != "creator" && claims->role != "admin")) {
    return unauthorized("invalid_token", "the access token names no valid user or role");
  }
  // The token must be of the user's current version (revocation), and the
  // role is the user's role now, never the token's (a demotion bites at once).
  auto current = current_user(s, *claims);
  if (!current) {
    return from_error(current.error(), request);
  }
  if (!*current) {
    return unauthorized("token_revoked",
                        "the access token was revoked: its account no longer exists");
  }
  if ((*current)->token_version != claims->version) {
    return unauthorized("token_revoked",
                        "the access token was revoked (signed out everywhere, or the password or "
                        "role changed); sign in again");
  }
  if (!(*current)->session_live) {
    return unauthorized("token_revoked",
                        "the access token was revoked: its session was signed out; sign in again");
  }
  return principal{claims->subject, (*current)->role};
}

// The request's access token: the bearer token, else the console's cookie
// ("" when there is neither), or the 403 of a cookie without the CSRF header.
std::variant<std::string, http_response> presented_token(const http_request& request) {
  auto token = bearer_token(request);
  if (!token.empty()) {
    return token;
  }
  return cookie_access_token(request);
}

// Authentication and roles; nullopt when the caller may proceed.
std::optional<http_response> authorize(api_state& s, const route& r, request_context& ctx) {
  if (r.who == access::anyone) {
    return std::nullopt;
  }
  // The web console's session: the access token in an HttpOnly cookie.
  auto presented = presented_token(ctx.request);
  if (auto* refused = std::get_if<http_response>(&presented)) {
    return std::move(*refused);
  }
  const auto& token = std::get<std::string>(presented);
  if (token.empty()) {
    return unauthorized("unauthenticated", "this route needs an 'Authorization: Bearer' token");
  }
  auto checked = check_token(s, ctx.request, token);
  if (auto* refused = std::get_if<http_response>(&checked)) {
    return std::move(*refused);
  }
  ctx.caller = std::get<principal>(std::move(checked));
  if (r.who == access::admin && !ctx.caller->is_admin()) {
    return error_response(403, "forbidden", "this route is for administrators");
  }
  return std::nullopt;
}

std::optional<http_response> throttle(api_state& s, const route& r, const request_context& ctx) {
  if (r.limit == limit_class::none) {
    return std::nullopt;
  }
  const auto& l = s.options.limits;
  auto endpoint = r.method + " " + r.pattern;
  rate_decision d;
  if (r.limit == limit_class::login) {
    d = s.limiter.hit(address_subject(client_ip(s, ctx.request)), endpoint, l.login_per_ip,
                      l.window);
  } else if (ctx.caller) {
    d = s.limiter.hit("user:" + ctx.caller->user_id, endpoint, l.per_user, l.window);
  } else {
    d = s.limiter.hit(address_subject(client_ip(s, ctx.request)), endpoint, l.per_ip, l.window);
  }
  if (d.allowed) {
    return std::nullopt;
  }
  auto res = error_response(
      429, "rate_limited",
      "too many requests; retry after " + std::to_string(d.retry_after.count()) + " s");
  res.set_header("Retry-After", std::to_string(d.retry_after.count()));
  return res;
}

http_response dispatch(api_state& s, http_request& req, const route*& matched) {
  if (auto res = preflight(s.options, req)) {
    return std::move(*res);
  }
  if (auto console = serve_console(s, req)) {
    return std::move(*console);
  }
  auto match = s.routes.match(req.method, req.path);
  matched = match.found;
  if (match.found == nullptr) {
    if (match.allowed.empty()) {
      return error_response(404, "not_found", "no route for " + req.method + " " + req.path);
    }
    std::string allow;
    for (const auto& m : match.allowed) {
      allow += (allow.empty() ? "" : ", ") + m;
    }
    auto res = error_response(405, "method_not_allowed",
                              req.method + " is not allowed here; use " + allow);
    res.set_header("Allow", allow);
    return res;
  }
  request_context ctx{req, std::move(match.params), std::nullopt};
  if (auto denied = authorize(s, *match.found, ctx)) {
    return std::move(*denied);
  }
  if (auto limited = throttle(s, *match.found, ctx)) {
    return std::move(*limited);
  }
  return match.found->handler(ctx);
}

void add_basic_routes(api_state& s) {
  auto& r = s.routes;
  r.add({"GET", "/api/v1/healthz", access::anyone, limit_class::none, false,
         [](request_context&) { return json_response(200, R"({"status":"ok"})"); }});
  r.add({"GET", "/api/v1/readyz", access::anyone, limit_class::none, true, [&s](request_context&) {
           auto pg = s.directory.ping();
           auto redis = s.limiter.ping_ms();
           nlohmann::json body;
           body["postgres"] =
               pg ? nlohmann::json{{"status", "ok"}} : nlohmann::json{{"status", "unavailable"}};
           body["redis"] =
               redis ? nlohmann::json{{"status", "ok"}} : nlohmann::json{{"status", "unavailable"}};
           bool ready = pg && redis;
           body["status"] = ready ? "ready" : "not_ready";
           return json_response(ready ? 200 : 503, body.dump());
         }});
  // No /metrics here: the public API port does not serve the process's
  // metrics. `reelfarm serve --metrics-port` exposes them on a port of
  // their own, loopback by default (docs/observability.md).
  r.add({"GET", "/api/openapi.json", access::anyone, limit_class::none, false,
         [](request_context&) { return json_response(200, std::string(openapi_document())); }});
  r.add({"GET", "/api/docs", access::anyone, limit_class::none, false, [](request_context&) {
           http_response res;
           res.content_type = "text/html; charset=utf-8";
           res.body = std::string(docs_page());
           return res;
         }});
}

}  // namespace

std::optional<principal> signed_in_caller(api_state& s, const http_request& request) {
  auto presented = presented_token(request);
  auto* token = std::get_if<std::string>(&presented);
  if (token == nullptr || token->empty()) {
    return std::nullopt;
  }
  auto checked = check_token(s, request, *token);
  if (auto* caller = std::get_if<principal>(&checked)) {
    return std::move(*caller);
  }
  return std::nullopt;
}

api_state::api_state(const gateway_options& o, const gateway_backends& b, password_cost cost)
    : options(o),
      plans(b.plans),
      pool(b.postgres_dsn, b.postgres_pool_size),
      cache(b.redis_url),
      ledger(pool, b.plans, &cache),
      stripe(o.billing.stripe),
      billing(o.billing, ledger, stripe),
      accounts(pool, b.plans, cost),
      projects(pool),
      jobs(pool),
      job_ctx{&jobs, b.plans, b.planner, b.media_dir,
              actors::generation_prices{b.planner.t2v_credits, b.planner.i2v_credits}},
      media_dir(b.media_dir),
      farm_endpoint(b.farm_endpoint),
      redis_url(b.redis_url),
      refresh_tokens(pool, o.refresh_ttl),
      directory(pool),
      token_versions(o.token_check_ttl),
      limiter(b.redis_url, std::chrono::milliseconds(200)),
      youtube(b.youtube) {}

result<std::unique_ptr<api>> api::create(const gateway_options& options,
                                         const gateway_backends& backends) {
  if (!options.jwt_secret.empty() && options.jwt_secret.size() < 32) {
    return error(gateway_errc::options, "the JWT secret must be at least 32 bytes long");
  }
  auto trusted = parse_networks(options.trusted_proxies);
  if (!trusted) {
    return std::move(trusted).error();
  }
  auto state = std::make_unique<api_state>(options, backends, cost_from(options));
  state->trusted_proxies = std::move(*trusted);
  // The decoy hash unknown emails are checked against, made now with the
  // live cost so the first such login is not the one that takes longer.
  if (auto decoy = state->accounts.prepare_login(); !decoy) {
    return std::move(decoy).error();
  }
  state->jwt_secret = options.jwt_secret;
  if (state->jwt_secret.empty()) {
    state->jwt_secret = random_token(48);
    log::warn("gateway", "no JWT secret configured: using a random one; tokens end at restart");
  }
  add_basic_routes(*state);
  add_auth_routes(*state);
  add_project_routes(*state);
  add_credit_routes(*state);
  add_admin_routes(*state);
  add_job_routes(*state);
  add_media_routes(*state);
  add_event_routes(*state);
  add_node_routes(*state);
  add_youtube_routes(*state);
  add_billing_routes(*state);
  add_plan_routes(*state);
  return std::unique_ptr<api>(new api(std::move(state)));
}

api::api(std::unique_ptr<api_state> state) : state_(std::move(state)) {}
api::~api() = default;

http_response api::handle(http_request& request) {
  if (request.request_id.empty()) {
    auto given = request.header("x-request-id");
    request.request_id =
        given && acceptable_request_id(*given) ? std::string(*given) : random_request_id();
  }
  auto started = std::chrono::steady_clock::now();
  const route* matched = nullptr;
  http_response res;
  try {
    res = dispatch(*state_, request, matched);
  } catch (const std::exception& e) {
    log::error("gateway", "handler failed",
               {{"request_id", request.request_id}, {"path", request.path}, {"error", e.what()}});
    res = error_response(500, "internal", "internal error; request id " + request.request_id);
  }
  add_cors(state_->options, request, res);
  res.set_header("X-Request-Id", request.request_id);
  // The route's pattern, never the path: ids stay out of the label values.
  record_request(request.method,
                 matched != nullptr ? std::string_view(matched->pattern) : "unmatched", res.status,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return res;
}

bool api::blocking(std::string_view method, std::string_view path) const {
  return blocking(method, path, {});
}

bool api::blocking(std::string_view method, std::string_view path, std::string_view query) const {
  auto match = state_->routes.match(method, path);
  if (match.found == nullptr) {
    return false;
  }
  if (match.found->pattern == "/api/v1/jobs/{id}") {
    return job_route_needs_blocking(*state_, method, match.params["id"], query);
  }
  return match.found->blocking;
}

std::size_t api::body_limit(std::string_view method, std::string_view path) const {
  bool upload = (method == "POST" || method == "PUT") && path.starts_with("/api/v1/projects");
  return upload ? state_->options.upload_body_limit : state_->options.json_body_limit;
}

const router& api::routes() const noexcept {
  return state_->routes;
}

void api::set_server_stats(std::function<nlohmann::json()> stats) {
  std::lock_guard lock(state_->stats_mutex);
  state_->server_stats = std::move(stats);
}

// --- helpers shared by the route files ---

http_response from_error(const error& e, const http_request& request) {
  struct mapping {
    store_errc code;
    int status;
    const char* name;
  };
  static const mapping store_map[] = {
      {store_errc::not_found, 404, "not_found"},
      {store_errc::duplicate_email, 409, "email_taken"},
      {store_errc::insufficient_credits, 402, "insufficient_credits"},
      {store_errc::conflict, 409, "conflict"},
      {store_errc::job_cancelled, 409, "job_cancelled"},
      {store_errc::invalid_argument, 422, "validation_failed"},
      {store_errc::password, 401, "invalid_credentials"},
  };
  for (const auto& m : store_map) {
    if (e.is(m.code)) {
      return error_response(m.status, m.name, e.message());
    }
  }
  if (e.is(gateway_errc::token_invalid) || e.is(gateway_errc::token_expired)) {
    return unauthorized(e.is(gateway_errc::token_expired) ? "token_expired" : "invalid_token",
                        e.message());
  }
  if (e.is(gateway_errc::refresh_reused)) {
    return unauthorized("refresh_token_reused", e.message());
  }
  log::error(
      "gateway", "request failed",
      {{"request_id", request.request_id}, {"path", request.path}, {"error", e.full_text()}});
  bool unreachable = e.is(store_errc::connection) || e.category() == "common";
  return error_response(
      unreachable ? 503 : 500, unreachable ? "unavailable" : "internal",
      (unreachable ? std::string("the database is unavailable") : std::string("internal error")) +
          "; request id " + request.request_id);
}

std::optional<std::int64_t> parse_integer(std::string_view text, std::int64_t min,
                                          std::int64_t max) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return std::nullopt;
  }
  return value;
}

std::variant<page_params, http_response> read_page(const http_request& request) {
  page_params page;
  if (auto limit = request.query_param("limit")) {
    auto v = parse_integer(*limit, 1, 100);
    if (!v) {
      return error_response(400, "invalid_parameter", "limit must be an integer from 1 to 100");
    }
    page.limit = static_cast<int>(*v);
  }
  if (auto offset = request.query_param("offset")) {
    auto v = parse_integer(*offset, 0, 1'000'000'000);
    if (!v) {
      return error_response(400, "invalid_parameter",
                            "offset must be an integer from 0 to 1000000000");
    }
    page.offset = *v;
  }
  return page;
}

std::string client_ip(const api_state& s, const http_request& request) {
  if (s.trusted_proxies.empty()) {
    return request.remote_ip;  // nobody's X-Forwarded-For is believed
  }
  // Every X-Forwarded-For header counts, in order, as if joined by commas
  // (RFC 9110 section 5.3): a proxy may add its own as a second header.
  std::string forwarded;
  for (const auto& [name, value] : request.headers) {
    if (name == "x-forwarded-for") {
      forwarded += forwarded.empty() ? "" : ",";
      forwarded += value;
    }
  }
  return client_address(request.remote_ip, forwarded, s.trusted_proxies);
}

std::string string_field(const nlohmann::json& body, const char* name, std::string fallback) {
  auto it = body.find(name);
  return it != body.end() && it->is_string() ? it->get<std::string>() : fallback;
}

}  // namespace reelfarm::gateway
