// Projects CRUD, always scoped to the caller: another user's project is 404.
#include <array>

#include "api_state.hpp"
#include "reelfarm/actors/shot_plan.hpp"

namespace reelfarm::gateway {

namespace {

nlohmann::json project_json(const project_record& p, bool with_script) {
  auto settings = nlohmann::json::parse(p.settings_json, nullptr, false);
  nlohmann::json j = {{"id", p.id},
                      {"title", p.title},
                      {"status", p.status},
                      {"settings", settings.is_discarded() ? nlohmann::json::object() : settings},
                      {"credits_used", p.credits_used},
                      {"video_duration", p.video_duration ? nlohmann::json(*p.video_duration)
                                                          : nlohmann::json(nullptr)},
                      {"video_url", p.video_url ? nlohmann::json(*p.video_url) : nullptr},
                      {"thumbnail_url", p.thumbnail_url ? nlohmann::json(*p.thumbnail_url)
                                                        : nlohmann::json(nullptr)},
                      {"created_at", p.created_at},
                      {"updated_at", p.updated_at}};
  if (with_script) {
    j["script"] = p.script;
  }
  return j;
}

// Screenplays may be large: the body limit for uploads bounds them.
constexpr std::array<field_spec, 3> project_fields{{
    {"title", json_kind::string, false, 200},
    {"script", json_kind::string, false, 0},
    {"settings", json_kind::object, false, 0},
}};

// The title and the render settings a project is stored with, checked as a
// render will check them, so a project never holds settings it cannot render.
http_response check_fields(const nlohmann::json& body) {
  auto it = body.find("title");
  if (it != body.end()) {
    const auto& title = it->get_ref<const std::string&>();
    if (title.find_first_not_of(" \t\r\n") == std::string::npos) {
      return error_response(422, "validation_failed", "title must not be blank");
    }
  }
  if (body.contains("settings")) {
    if (auto settings = actors::parse_render_settings(body["settings"].dump()); !settings) {
      return error_response(422, "invalid_settings", settings.error().message());
    }
  }
  return {};
}

http_response list_projects(api_state& s, request_context& ctx) {
  auto page = read_page(ctx.request);
  if (auto* failed = std::get_if<http_response>(&page)) {
    return std::move(*failed);
  }
  auto p = std::get<page_params>(page);
  auto found = s.projects.list(ctx.caller->user_id, p.limit, p.offset);
  if (!found) {
    return from_error(found.error(), ctx.request);
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& item : found->items) {
    items.push_back(project_json(item, false));
  }
  return json_response(
      200,
      dump_json(
          {{"items", items}, {"total", found->total}, {"limit", p.limit}, {"offset", p.offset}}));
}

http_response create_project(api_state& s, request_context& ctx) {
  return with_json(ctx.request, project_fields, [&](const nlohmann::json& body) {
    if (!body.contains("title")) {
      return error_response(422, "validation_failed", "missing required field 'title'");
    }
    if (auto bad = check_fields(body); bad.status != 200) {
      return bad;
    }
    auto settings = body.contains("settings") ? body["settings"].dump() : std::string("{}");
    auto made = s.projects.create(ctx.caller->user_id, string_field(body, "title"),
                                  string_field(body, "script"), settings);
    if (!made) {
      return from_error(made.error(), ctx.request);
    }
    auto res = json_response(201, dump_json(project_json(*made, true)));
    res.set_header("Location", "/api/v1/projects/" + made->id);
    return res;
  });
}

http_response get_project(api_state& s, request_context& ctx) {
  auto found = s.projects.get(ctx.caller->user_id, ctx.param("id"));
  if (!found) {
    return from_error(found.error(), ctx.request);
  }
  return json_response(200, dump_json(project_json(*found, true)));
}

http_response update_project(api_state& s, request_context& ctx) {
  return with_json(ctx.request, project_fields, [&](const nlohmann::json& body) {
    if (body.empty()) {
      return error_response(422, "validation_failed",
                            "give at least one of 'title', 'script', 'settings'");
    }
    if (auto bad = check_fields(body); bad.status != 200) {
      return bad;
    }
    project_changes changes;
    if (body.contains("title")) {
      changes.title = string_field(body, "title");
    }
    if (body.contains("script")) {
      changes.script = string_field(body, "script");
    }
    if (body.contains("settings")) {
      changes.settings_json = body["settings"].dump();
    }
    auto updated = s.projects.update(ctx.caller->user_id, ctx.param("id"), changes);
    if (!updated) {
      return from_error(updated.error(), ctx.request);
    }
    return json_response(200, dump_json(project_json(*updated, true)));
  });
}

http_response delete_project(api_state& s, request_context& ctx) {
  if (auto r = s.projects.remove(ctx.caller->user_id, ctx.param("id")); !r) {
    return from_error(r.error(), ctx.request);
  }
  http_response res;
  res.status = 204;
  res.content_type.clear();
  return res;
}

}  // namespace

void add_project_routes(api_state& s) {
  auto bind = [&s](http_response (*f)(api_state&, request_context&)) {
    return [&s, f](request_context& ctx) { return f(s, ctx); };
  };
  auto& r = s.routes;
  r.add({"GET", "/api/v1/projects", access::creator, limit_class::standard, true,
         bind(list_projects)});
  r.add({"POST", "/api/v1/projects", access::creator, limit_class::standard, true,
         bind(create_project)});
  r.add({"GET", "/api/v1/projects/{id}", access::creator, limit_class::standard, true,
         bind(get_project)});
  r.add({"PUT", "/api/v1/projects/{id}", access::creator, limit_class::standard, true,
         bind(update_project)});
  r.add({"DELETE", "/api/v1/projects/{id}", access::creator, limit_class::standard, true,
         bind(delete_project)});
}

}  // namespace reelfarm::gateway
