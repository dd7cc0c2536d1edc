// Administrators: users, statistics, system health.
#include "api_state.hpp"

namespace reelfarm::gateway {

namespace {

http_response list_users(api_state& s, request_context& ctx) {
  auto page = read_page(ctx.request);
  if (auto* failed = std::get_if<http_response>(&page)) {
    return std::move(*failed);
  }
  auto p = std::get<page_params>(page);
  auto users = s.directory.list_users(p.limit, p.offset);
  if (!users) {
    return from_error(users.error(), ctx.request);
  }
  return json_response(200, dump_json(*users));
}

http_response statistics(api_state& s, request_context& ctx) {
  auto stats = s.directory.statistics();
  if (!stats) {
    return from_error(stats.error(), ctx.request);
  }
  return json_response(200, dump_json(*stats));
}

http_response system_health(api_state& s, request_context&) {
  nlohmann::json out;
  auto pg = s.directory.ping();
  out["postgres"] = pg ? *pg : nlohmann::json{{"status", "unavailable"}};
  auto redis = s.limiter.ping_ms();
  out["redis"] = redis ? nlohmann::json{{"status", "ok"}, {"latency_ms", *redis}}
                       : nlohmann::json{{"status", "unavailable"}};
  {
    std::lock_guard lock(s.stats_mutex);
    out["server"] = s.server_stats ? s.server_stats() : nlohmann::json::object();
  }
  out["server"]["uptime_s"] =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - s.started)
          .count();
  out["status"] = pg && redis ? "ok" : "degraded";
  return json_response(200, dump_json(out));
}

}  // namespace

void add_admin_routes(api_state& s) {
  auto bind = [&s](http_response (*f)(api_state&, request_context&)) {
    return [&s, f](request_context& ctx) { return f(s, ctx); };
  };
  auto& r = s.routes;
  r.add(
      {"GET", "/api/v1/admin/users", access::admin, limit_class::standard, true, bind(list_users)});
  r.add({"GET", "/api/v1/admin/statistics", access::admin, limit_class::standard, true,
         bind(statistics)});
  r.add({"GET", "/api/v1/admin/system-health", access::admin, limit_class::standard, true,
         bind(system_health)});
}

}  // namespace reelfarm::gateway
