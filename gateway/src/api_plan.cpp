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

// The price of the film the preview would render with `settings`: its
// shots as planned (a character with an image given makes its provider
// shots image-to-video), priced as the render will be.
actors::render_price preview_price(const api_state& s, const screenplay::plan& plan,
                                   actors::render_settings settings, const std::string& user) {
  actors::add_screenplay_images(settings, plan);
  for (auto& [name, image] : settings.character_images) {
    image.sha256 = "preview";  // stored (and hashed) only when the render starts
  }
  auto shots = actors::plan_shots(plan, settings,
                                  actors::media_layout(s.job_ctx.media_dir, user, "preview"));
  return actors::price_render(shots, s.job_ctx.prices);
}

http_response preview(api_state& s, request_context& ctx) {
  static constexpr std::array<field_spec, 2> fields{{
      {"script", json_kind::string, true, 0},
      {"settings", json_kind::object, false, 0},
  }};
  return with_json(ctx.request, fields, [&](const json& body) {
    actors::render_settings settings;
    if (body.contains("settings")) {
      auto parsed = actors::parse_render_settings(body["settings"].dump());
      if (!parsed) {
        return error_response(422, "invalid_settings", parsed.error().message());
      }
      settings = std::move(*parsed);
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
    auto price = preview_price(s, *plan, settings, ctx.caller->user_id);
    out["cost_credits"] = price.total();
    out["price"] = price_json(price, s.job_ctx.prices);
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

json price_json(const actors::render_price& price, const actors::generation_prices& p) {
  return {{"total_credits", price.total()},
          {"animatic",
           {{"shots", price.animatic_shots},
            {"seconds", static_cast<double>(price.animatic_ms) / 1000.0},
            {"credits", price.animatic_credits},
            {"rule", "3 credits per started minute"}}},
          {"generations",
           {{"t2v", {{"shots", price.t2v_shots}, {"credits_each", p.t2v}}},
            {"i2v", {{"shots", price.i2v_shots}, {"credits_each", p.i2v}}},
            {"credits", price.generation_credits}}}};
}

void add_plan_routes(api_state& s) {
  s.routes.add({"POST", "/api/v1/plan", access::creator, limit_class::standard, true,
                [&s](request_context& ctx) { return preview(s, ctx); }});
}

}  // namespace reelfarm::gateway
