#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "reelfarm/actors/errc.hpp"
#include "reelfarm/actors/shot_plan.hpp"
#include "reelfarm/media/spec_json.hpp"
#include "reelfarm/screenplay/fountain.hpp"

using namespace reelfarm;
using namespace reelfarm::actors;

namespace {

constexpr const char* script = R"(Title: Two Rooms

INT. KITCHEN - DAY

ANNA stirs a pot.

ANNA
(quietly)
It is ready.

BOB (V.O.)
I can smell it from here.

EXT. GARDEN - NIGHT

Bob waters the roses.
)";

screenplay::plan plan_of(const std::string& text) {
  auto doc = screenplay::parse_fountain(text);
  REQUIRE(doc);
  auto plan = screenplay::plan_screenplay(*doc, planner_settings{}, "project-1");
  REQUIRE(plan);
  return *plan;
}

}  // namespace

TEST_CASE("every planned shot becomes a valid renderer spec", "[actors]") {
  auto plan = plan_of(script);
  media_layout layout("/media", "u1", "p1");
  auto shots = plan_shots(plan, render_settings{320, 180, 12, false}, layout);
  REQUIRE(shots.size() == plan.shot_count());
  for (const auto& s : shots) {
    auto lease = nlohmann::json::parse(s.spec_json);
    auto spec = media::parse_shot_spec(lease["shot"].dump());
    INFO(s.shot_id << ": " << (spec ? "" : spec.error().message()));
    REQUIRE(spec);
    CHECK(spec->width == 320);
    CHECK(lease["output"].get<std::string>().starts_with("users/u1/projects/p1/video-clips/"));
    CHECK(s.input_hash.size() == 64);
  }
  CHECK(shots.front().scene_id == "sc1");
  CHECK(shots.back().scene_id == "sc2");
}

TEST_CASE("a voice-over speaker is drawn so that the line can be captioned", "[actors]") {
  auto plan = plan_of(script);
  auto shots = plan_shots(plan, render_settings{}, media_layout("/m", "u", "p"));
  bool found = false;
  for (const auto& s : shots) {
    auto spec = media::parse_shot_spec(nlohmann::json::parse(s.spec_json)["shot"].dump());
    REQUIRE(spec);
    for (const auto& line : spec->dialogue) {
      found = found || line.character == "BOB";
      if (line.character == "ANNA") {
        CHECK(line.parenthetical == "quietly");
      }
    }
  }
  CHECK(found);
}

TEST_CASE("input hashes change only for shots whose inputs change", "[actors]") {
  media_layout layout("/m", "u", "p");
  auto a = plan_shots(plan_of(script), render_settings{}, layout);
  auto b = plan_shots(plan_of(script), render_settings{}, layout);
  std::string edited = script;
  edited.replace(edited.find("waters the roses"), 16, "cuts the roses!!");
  auto c = plan_shots(plan_of(edited), render_settings{}, layout);
  REQUIRE(a.size() == c.size());
  int changed = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].input_hash == b[i].input_hash);
    changed += a[i].input_hash != c[i].input_hash ? 1 : 0;
  }
  CHECK(changed == 1);
}

TEST_CASE("only shots to render are charged, 3 credits per started minute", "[actors]") {
  std::vector<shot_record> shots(3);
  shots[0].duration_ms = 30'000;
  shots[1].duration_ms = 30'000;
  shots[2].duration_ms = 1'000;
  CHECK(render_cost(shots) == 6);
  shots[2].status = "reused";
  CHECK(render_cost(shots) == 3);
  shots[0].status = shots[1].status = "done";
  CHECK(render_cost(shots) == 0);
}

TEST_CASE("render settings are checked", "[actors]") {
  auto s = parse_render_settings(R"({"resolution":"640x360","fps":12})");
  REQUIRE(s);
  CHECK(s->width == 640);
  CHECK(s->fps == 12);
  CHECK(parse_render_settings("{}")->width == 1280);
  for (const auto* bad : {R"({"resolution":"641x360"})", R"({"resolution":"big"})", R"({"fps":0})",
                          "[1]", "not json"}) {
    auto r = parse_render_settings(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(actors_errc::invalid_settings));
  }
}
