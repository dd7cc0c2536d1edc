#pragma once

// Internal: what the route handlers share, and the helpers they use.

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "job_status_cache.hpp"
#include "reelfarm/actors/job_control.hpp"
#include "reelfarm/gateway/api.hpp"
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

namespace reelfarm::gateway {

struct api_state {
  api_state(const gateway_options& o, const gateway_backends& b, password_cost cost);

  gateway_options options;
  std::string jwt_secret;
  plan_catalog plans;
  pg_pool pool;
  balance_cache cache;
  credit_ledger ledger;
  account_repository accounts;
  project_repository projects;
  job_repository jobs;
  actors::job_context job_ctx;  ///< pricing and regenerate, as the supervisor does them
  std::filesystem::path media_dir;
  std::string farm_endpoint;
  std::string redis_url;
  job_status_cache job_cache;
  refresh_token_store refresh_tokens;
  user_directory directory;
  rate_limiter limiter;
  youtube::youtube_options youtube;  ///< publishing is off unless enabled()
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
void add_youtube_routes(api_state& s);

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

/// A user as the API shows it.
nlohmann::json user_json(const user_account& user);

/// An access token for `user_id`, and its lifetime.
std::string issue_access_token(const api_state& s, const std::string& user_id,
                               const std::string& role);

/// A string field of a validated body, or `fallback`.
std::string string_field(const nlohmann::json& body, const char* name, std::string fallback = {});

}  // namespace reelfarm::gateway
