// Administrators: users, roles, statistics, system health.
#include <array>

#include "api_state.hpp"
#include "reelfarm/common/log.hpp"

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

// Promotes or demotes a user. The change ends every session of that user
// (token version bumped, refresh tokens revoked), so a demoted admin's
// tokens stop working at once instead of when they expire.
http_response set_role(api_state& s, request_context& ctx) {
  static constexpr std::array<field_spec, 1> fields{{{"role", json_kind::string, true, 16}}};
  return with_json(ctx.request, fields, [&](const nlohmann::json& body) {
    const auto& target = ctx.param("id");
    if (!is_uuid(target)) {
      return error_response(404, "not_found", "no user with id '" + target + "'");
    }
    auto role = string_field(body, "role");
    if (role != "creator" && role != "admin") {
      return error_response(422, "validation_failed", "role must be 'creator' or 'admin'");
    }
    auto user = s.accounts.get(target);
    if (!user) {
      return from_error(user.error(), ctx.request);  // 404 for no such user
    }
    bool changed = user->role != role;
    if (changed) {
      if (auto r = s.accounts.set_role(target, role); !r) {
        return from_error(r.error(), ctx.request);
      }
      if (auto r = end_all_sessions(s, target); !r) {
        return from_error(r.error(), ctx.request);
      }
      log::info("gateway", "role changed",
                {{"request_id", ctx.request.request_id},
                 {"user", target},
                 {"role", role},
                 {"by", ctx.caller->user_id}});
    }
    return json_response(
        200, dump_json({{"id", target}, {"from", user->role}, {"to", role}, {"changed", changed}}));
  });
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
  r.add({"POST", "/api/v1/admin/users/{id}/role", access::admin, limit_class::standard, true,
         bind(set_role)});
  r.add({"GET", "/api/v1/admin/statistics", access::admin, limit_class::standard, true,
         bind(statistics)});
  r.add({"GET", "/api/v1/admin/system-health", access::admin, limit_class::standard, true,
         bind(system_health)});
}

}  // namespace reelfarm::gateway
