// Operators: render nodes (list, drain, undrain, remove). The coordinator
// owns the node table in memory; the gateway asks it with the same admin
// frames `reelfarm ctl nodes` sends (docs/protocol.md).
#include <map>
#include <memory>
#include <mutex>
#include <regex>

#include "api_state.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/coordinator/admin_client.hpp"

namespace reelfarm::gateway {

namespace {

using json = nlohmann::json;

constexpr auto farm_timeout = std::chrono::seconds(3);

bool valid_node_id(const std::string& id) {
  static const std::regex pattern("^[A-Za-z0-9._:-]{1,128}$");
  return std::regex_match(id, pattern);
}

std::variant<farm::admin_reply_msg, http_response> ask_farm(
    api_state& s, const farm::admin_msg& request,
    std::chrono::milliseconds timeout = farm_timeout) {
  if (s.farm_endpoint.empty()) {
    return error_response(503, "farm_unavailable", "this gateway knows no farm coordinator");
  }
  // The operator key is the farm's, kept in PostgreSQL by the coordinator.
  auto credentials = [&]() -> result<farm::farm_credentials> {
    auto conn = s.pool.acquire();
    if (!conn) {
      return conn.error();
    }
    return farm::load_operator_credentials(**conn);
  }();
  if (!credentials) {
    log::warn("gateway", "no operator credentials for the farm",
              {{"error", credentials.error().message()}});
    return error_response(503, "farm_unavailable",
                          "the farm coordinator has not started yet; retry shortly");
  }
  auto reply = farm::admin_request(s.farm_endpoint, *credentials, request, timeout);
  if (!reply) {
    return error_response(503, "farm_unavailable",
                          "the farm coordinator does not answer; retry shortly");
  }
  if (!reply->ok) {
    bool unknown = reply->message.find("is not registered") != std::string::npos;
    return error_response(unknown ? 404 : 409, unknown ? "not_found" : "conflict", reply->message);
  }
  return *reply;
}

}  // namespace

namespace {

// What the farm offered, for a few seconds: a burst of submits asks the
// coordinator once, and a coordinator that does not answer costs each
// submit at most 2 s once per 5 s, not the admin routes' 3 s each.
constexpr auto backends_fresh_for = std::chrono::seconds(5);
constexpr auto backends_timeout = std::chrono::milliseconds(2000);

std::optional<std::set<std::string>> ask_live_backends(api_state& s);

}  // namespace

std::optional<std::set<std::string>> live_backends(api_state& s) {
  if (s.farm_endpoint.empty()) {
    return std::nullopt;
  }
  auto& cache = s.farm_backends;
  std::lock_guard lock(cache.mutex);
  auto now = std::chrono::steady_clock::now();
  if (cache.at == std::chrono::steady_clock::time_point{} || now - cache.at >= backends_fresh_for) {
    cache.offered = ask_live_backends(s);
    cache.at = now;
  }
  return cache.offered;
}

namespace {

std::optional<std::set<std::string>> ask_live_backends(api_state& s) {
  auto reply = ask_farm(s, {"list", ""}, backends_timeout);
  auto* answer = std::get_if<farm::admin_reply_msg>(&reply);
  if (answer == nullptr) {
    return std::nullopt;
  }
  auto nodes = json::parse(answer->body, nullptr, false);
  if (!nodes.is_array()) {
    return std::nullopt;
  }
  std::set<std::string> offered;
  bool any_alive = false;
  for (const auto& n : nodes) {
    if (!n.is_object() || n.value("state", "") != "alive" || !n.contains("backends") ||
        !n["backends"].is_array()) {
      continue;
    }
    any_alive = true;
    for (const auto& b : n["backends"]) {
      if (b.is_string()) {
        offered.insert(b.get<std::string>());
      }
    }
  }
  if (!any_alive) {
    return std::nullopt;
  }
  return offered;
}

http_response list_nodes(api_state& s, request_context&) {
  auto reply = ask_farm(s, {"list", ""});
  if (auto* failed = std::get_if<http_response>(&reply)) {
    return std::move(*failed);
  }
  auto nodes = json::parse(std::get<farm::admin_reply_msg>(reply).body, nullptr, false);
  if (!nodes.is_array()) {
    return error_response(502, "bad_gateway", "the coordinator sent a malformed node list");
  }
  return json_response(200, dump_json({{"items", nodes}, {"total", nodes.size()}}));
}

http_response change_node(api_state& s, request_context& ctx, const char* command) {
  const auto& id = ctx.param("id");
  if (!valid_node_id(id)) {
    return error_response(404, "not_found", "no node with id '" + id + "'");
  }
  auto reply = ask_farm(s, {command, id});
  if (auto* failed = std::get_if<http_response>(&reply)) {
    return std::move(*failed);
  }
  return json_response(200, dump_json({{"id", id}, {"done", command}}));
}

}  // namespace

void add_node_routes(api_state& s) {
  auto& r = s.routes;
  r.add({"GET", "/api/v1/nodes", access::admin, limit_class::standard, true,
         [&s](request_context& ctx) { return list_nodes(s, ctx); }});
  r.add({"POST", "/api/v1/nodes/{id}/drain", access::admin, limit_class::standard, true,
         [&s](request_context& ctx) { return change_node(s, ctx, "drain"); }});
  r.add({"POST", "/api/v1/nodes/{id}/undrain", access::admin, limit_class::standard, true,
         [&s](request_context& ctx) { return change_node(s, ctx, "undrain"); }});
  r.add({"DELETE", "/api/v1/nodes/{id}", access::admin, limit_class::standard, true,
         [&s](request_context& ctx) { return change_node(s, ctx, "remove"); }});
}

}  // namespace reelfarm::gateway
