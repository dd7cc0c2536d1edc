#pragma once

// Internal: what the route handlers share, and the helpers they use.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "job_status_cache.hpp"
#include "reelfarm/actors/job_control.hpp"
#include "reelfarm/billing/billing_service.hpp"
#include "reelfarm/gateway/api.hpp"
#include "reelfarm/gateway/client_address.hpp"
#include "reelfarm/gateway/json_input.hpp"
#include "reelfarm/gateway/rate_limiter.hpp"
#include "reelfarm/gateway/refresh_token_store.hpp"
#include "reelfarm/gateway/router.hpp"
#include "reelfarm/gateway/user_directory.hpp"
#include "reelfarm/store/account_repository.hpp"
#include "reelfarm/store/balance_cache.hpp"
#include "reelfarm/store/credit_ledger.hpp"
#include "reelfarm/store/pg_pool.hpp"
#include "reelfarm/store/project_repository.hpp"
#include "reelfarm/youtube/youtube_options.hpp"
#include "token_version_cache.hpp"

namespace reelfarm::gateway {

/// The backends the farm's live nodes offered, kept a few seconds (see
/// live_backends).
struct farm_backends_cache {
  std::mutex mutex;
  std::chrono::steady_clock::time_point at{};
  std::optional<std::set<std::string>> offered;
};

struct api_state {
  api_state(const gateway_options& o, const gateway_backends& b, password_cost cost);

  gateway_options options;
  std::string jwt_secret;
  plan_catalog plans;
  pg_pool pool;
  balance_cache cache;
  credit_ledger ledger;
  billing::stripe_client stripe;     ///< fails billing_errc::disabled without a key
  billing::billing_service billing;  ///< checkout, portal, invoices (options.billing)
  account_repository accounts;
  project_repository projects;
  job_repository jobs;
  actors::job_context job_ctx;  ///< pricing and regenerate, as the supervisor does them
  std::filesystem::path media_dir;
  std::string farm_endpoint;
  farm_backends_cache farm_backends;
  std::string redis_url;
  job_status_cache job_cache;
  refresh_token_store refresh_tokens;
  user_directory directory;
  token_version_cache token_versions;  ///< the access-token check's view of users
  rate_limiter limiter;
  std::vector<ip_network> trusted_proxies;  ///< options.trusted_proxies, parsed
  youtube::youtube_options youtube;         ///< publishing is off unless enabled()
  router routes;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::mutex stats_mutex;
  std::function<nlohmann::json()> server_stats;
};

void add_auth_routes(api_state& s);
void add_project_routes(api_state& s);
void add_credit_routes(api_state& s);
void add_admin_routes(api_state& s);
void add_job_routes(api_state& s);
void add_media_routes(api_state& s);
void add_event_routes(api_state& s);
void add_node_routes(api_state& s);

/// The render backends the farm's live (alive, not draining) nodes offer,
/// asked of the coordinator; nullopt when the farm cannot say (no
/// coordinator configured or answering, no node connected): the render is
/// queued then, and waits for nodes.
std::optional<std::set<std::string>> live_backends(api_state& s);
void add_youtube_routes(api_state& s);
void add_billing_routes(api_state& s);
void add_plan_routes(api_state& s);

/// The web console's files for GET / and /console/*, with their security
/// headers; nullopt for every other request.
std::optional<http_response> serve_console(const api_state& s, const http_request& request);

/// Whether GET/DELETE /api/v1/jobs/{id} must run on the blocking pool.
bool job_route_needs_blocking(const api_state& s, std::string_view method,
                              const std::string& job_id, std::string_view query);

/// The response for an error from a lower layer: its status and code; the
/// details of storage failures go to the log only, never to the client.
http_response from_error(const error& e, const http_request& request);

/// Runs `body` on a parsed, validated JSON body, or returns the parse error.
template <class Body>
http_response with_json(const http_request& request, std::span<const field_spec> fields,
                        Body&& body) {
  auto parsed = parse_json_body(request, fields);
  if (auto* failed = std::get_if<http_response>(&parsed)) {
    return std::move(*failed);
  }
  return body(std::get<nlohmann::json>(parsed));
}

/// Reads `limit` (1..100, default 20) and `offset` (>= 0) from the query.
struct page_params {
  int limit = 20;
  std::int64_t offset = 0;
};
std::variant<page_params, http_response> read_page(const http_request& request);

/// Parses a whole decimal integer in [min, max].
std::optional<std::int64_t> parse_integer(std::string_view text, std::int64_t min,
                                          std::int64_t max);

/// What a render costs, and of what (the plan preview and POST .../render).
nlohmann::json price_json(const actors::render_price& price, const actors::generation_prices& p);

/// A user as the API shows it.
nlohmann::json user_json(const user_account& user);

/// An access token for the user of `who` (role and token version), valid
/// for options.access_ttl.
std::string issue_access_token(const api_state& s, const issued_refresh& who);

/// The header the web console sends on every request ("X-Requested-With:
/// reelfarm-console"). A cross-site form or image cannot set it, so a cookie
/// session is honoured for unsafe methods only when it is present (CSRF).
inline constexpr std::string_view console_header_value = "reelfarm-console";
/// Cookie names of a browser session: the access token (Path=/) and the
/// refresh token (Path=/api/v1/auth, so no other request carries it).
inline constexpr std::string_view access_cookie = "reelfarm_access";
inline constexpr std::string_view refresh_cookie = "reelfarm_refresh";

/// Whether the request comes from the console (carries the console header).
bool from_console(const http_request& request);

/// The value of cookie `name` in the request's Cookie header, if any.
std::optional<std::string> cookie_value(const http_request& request, std::string_view name);

/// The access token of a cookie session when the request has no bearer
/// token: "" when it has no access cookie, or the 403 for a cookie on an
/// unsafe method without the console header.
std::variant<std::string, http_response> cookie_access_token(const http_request& request);

/// Adds the Set-Cookie headers of a browser session: the access token
/// (HttpOnly, SameSite=Strict, Path=/, Max-Age `access_ttl`) and the refresh
/// token (Path=/api/v1/auth, Max-Age refresh_ttl); Secure over https.
void set_session_cookies(const api_state& s, const http_request& request, http_response& response,
                         const std::string& access_token, const std::string& refresh_token);

/// Adds Set-Cookie headers that delete both session cookies.
void clear_session_cookies(const api_state& s, const http_request& request,
                           http_response& response);

/// An access token for the user of `who` valid for `ttl`.
std::string issue_access_token(const api_state& s, const issued_refresh& who,
                               std::chrono::seconds ttl);

/// Ends every session of `user_id` (refresh_token_store::end_sessions) and
/// drops the user from this gateway's token cache, so their access tokens
/// are refused from the next request on.
result<void> end_all_sessions(api_state& s, const std::string& user_id);

/// The caller a request's access token (bearer or console cookie) names
/// when it passes every check a protected route makes; nullopt when the
/// request carries no such token. For routes open to anyone that still care
/// who is signed in.
std::optional<principal> signed_in_caller(api_state& s, const http_request& request);

/// A Set-Cookie value: HttpOnly, `same_site`, Secure unless the request is
/// plain http to the loopback (as the session cookies).
std::string cookie_header(const api_state& s, const http_request& request, std::string_view name,
                          std::string_view value, std::string_view path, std::int64_t max_age,
                          std::string_view same_site);

/// The client's address: the socket's peer, or behind a trusted proxy the
/// address its X-Forwarded-For names (client_address).
std::string client_ip(const api_state& s, const http_request& request);

/// Counts a password check for the account `email` names (login_backoff);
/// the 429 with Retry-After while it is locked, else nullopt. Call
/// s.limiter.login_succeeded(email) when the password was right.
std::optional<http_response> account_backoff(api_state& s, const std::string& email);

/// A string field of a validated body, or `fallback`.
std::string string_field(const nlohmann::json& body, const char* name, std::string fallback = {});

}  // namespace reelfarm::gateway
