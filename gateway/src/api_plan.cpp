// POST /api/v1/plan: what a screenplay would become (scenes, shots,
// characters, length, price) before anything is stored or charged. The web
// console calls it while the creator types.
#include <array>

#include "api_state.hpp"
#include "reelfarm/actors/shot_plan.hpp"
#include "reelfarm/screenplay/cost.hpp"
#include "reelfarm/screenplay/fountain.hpp"
#include "reelfarm/screenplay/plan.hpp"

namespace reelfarm::gateway {

namespace {

using json = nlohmann::json;

double seconds(std::chrono::milliseconds d) {
  return static_cast<double>(d.count()) / 1000.0;
}

json names(std::span<const std::string_view> list) {
  json out = json::array();
  for (auto name : list) {
    out.push_back(std::string(name));
  }
  return out;
}

json plan_json(const screenplay::plan& plan) {
  json scenes = json::array();
  for (const auto& scene : plan.scenes) {
    scenes.push_back({{"number", scene.number},
                      {"heading", std::string(scene.heading)},
                      {"location", std::string(scene.location)},
                      {"time_of_day", std::string(scene.time_of_day)},
                      {"shots", scene.shots.size()},
                      {"characters", names(scene.characters)},
                      {"duration_seconds", seconds(scene.duration)}});
  }
  json characters = json::array();
  for (const auto& c : plan.characters) {
    characters.push_back({{"name", c.name}, {"shots", c.shots}});
  }
  return {{"title", plan.title},
          {"scenes", std::move(scenes)},
          {"shots", plan.shot_count()},
          {"characters", std::move(characters)},
          {"locations", plan.locations.size()},
          {"duration_seconds", seconds(plan.duration)},
          {"duration_text", screenplay::format_minutes_seconds(plan.duration)},
          {"cost_credits", screenplay::cost_credits(plan.duration)}};
}

http_response preview(api_state& s, request_context& ctx) {
  static constexpr std::array<field_spec, 2> fields{{
      {"script", json_kind::string, true, 0},
      {"settings", json_kind::object, false, 0},
  }};
  return with_json(ctx.request, fields, [&](const json& body) {
    if (body.contains("settings")) {
      if (auto settings = actors::parse_render_settings(body["settings"].dump()); !settings) {
        return error_response(422, "invalid_settings", settings.error().message());
      }
    }
    auto doc = screenplay::parse_fountain(string_field(body, "script"));
    if (!doc) {
      return error_response(422, "invalid_screenplay", doc.error().message());
    }
    // The key only seeds the characters' looks, which a preview does not show.
    auto plan = screenplay::plan_screenplay(std::move(doc).value(), s.job_ctx.planner, "preview");
    if (!plan) {
      return error_response(422, "invalid_screenplay", plan.error().message());
    }
    auto out = plan_json(*plan);
    // Against the caller's plan: the longest film it allows and the balance,
    // so the page can say "this needs an upgrade" before the render is refused.
    auto user = s.accounts.get(ctx.caller->user_id);
    if (!user) {
      return from_error(user.error(), ctx.request);
    }
    out["plan"] = user->plan;
    out["credits_balance"] = user->credits_balance;
    out["credits_unlimited"] = user->credits_unlimited;
    out["max_video_seconds"] = nullptr;
    out["fits_plan"] = true;
    if (const auto* p = s.plans.find(user->plan); p != nullptr && p->max_video.count() > 0) {
      out["max_video_seconds"] = p->max_video.count();
      out["fits_plan"] = plan->duration <= p->max_video;
    }
    out["affordable"] =
        user->credits_unlimited || user->credits_balance >= out["cost_credits"].get<std::int64_t>();
    return json_response(200, dump_json(out));
  });
}

}  // namespace

void add_plan_routes(api_state& s) {
  s.routes.add({"POST", "/api/v1/plan", access::creator, limit_class::standard, true,
                [&s](request_context& ctx) { return preview(s, ctx); }});
}

}  // namespace reelfarm::gateway
