#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "reelfarm/common/config.hpp"
#include "reelfarm/common/result.hpp"
#include "reelfarm/gateway/gateway_options.hpp"
#include "reelfarm/gateway/http_message.hpp"
#include "reelfarm/gateway/router.hpp"
#include "reelfarm/store/plan_catalog.hpp"
#include "reelfarm/youtube/youtube_options.hpp"

namespace reelfarm::gateway {

/// Where the API keeps its data. `store_services` provides the first two.
struct gateway_backends {
  std::string postgres_dsn;
  std::string redis_url;
  plan_catalog plans = plan_catalog::defaults();
  std::size_t postgres_pool_size = 16;
  /// Where finished films live (the farm's shared media folder); downloads
  /// are served from here only.
  std::filesystem::path media_dir;
  /// The coordinator's ZeroMQ endpoint for the node routes (admin frames);
  /// empty: the node routes answer 503.
  std::string farm_endpoint;
  /// How screenplays become shots: the render route prices a film with it
  /// before queueing, as the supervisor will.
  planner_settings planner;
  /// Publishing to YouTube (issue #11); off unless youtube.enabled().
  youtube::youtube_options youtube;
};

struct api_state;

/// The whole HTTP API as a function from request to response, without any
/// networking (the server calls it; tests and the fuzzer can too). It does
/// request ids, CORS, routing, authentication, roles, rate limits, the JSON
/// error format and maps every error to its status. Thread-safe.
class api {
 public:
  /// Opens the pools (nothing is contacted until the first request).
  static result<std::unique_ptr<api>> create(const gateway_options& options,
                                             const gateway_backends& backends);
  ~api();
  api(const api&) = delete;
  api& operator=(const api&) = delete;

  /// Answers one request. Never throws. Sets X-Request-Id on the response
  /// (and `request.request_id`).
  http_response handle(http_request& request);
  /// True when handling `method path` may block (PostgreSQL, Argon2id), so
  /// the server runs it off its I/O threads.
  bool blocking(std::string_view method, std::string_view path) const;
  /// The same, knowing the query: some answers come from memory when fresh.
  bool blocking(std::string_view method, std::string_view path, std::string_view query) const;
  /// The largest body accepted for `method path`.
  std::size_t body_limit(std::string_view method, std::string_view path) const;
  /// Every route (the OpenAPI test compares them with the document).
  const router& routes() const noexcept;
  /// Supplies the server's live figures for admin/system-health.
  void set_server_stats(std::function<nlohmann::json()> stats);

 private:
  explicit api(std::unique_ptr<api_state> state);
  std::unique_ptr<api_state> state_;
};

/// The OpenAPI 3 document served at /api/openapi.json.
std::string_view openapi_document();
/// The HTML page served at /api/docs.
std::string_view docs_page();

}  // namespace reelfarm::gateway
