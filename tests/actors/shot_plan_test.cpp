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

TEST_CASE("a lyric is drawn once, as the sung line with its note sign", "[actors]") {
  auto plan = plan_of(R"(INT. CHAPEL - NIGHT

Candles gutter. The choir rises.

~When the night is long
~and the road is cold

ANNA
~Sing it once again
)");
  std::vector<std::string> texts;  // everything a frame draws, shot by shot
  for (const auto& s : plan_shots(plan, render_settings{}, media_layout("/m", "u", "p"))) {
    auto spec = media::parse_shot_spec(nlohmann::json::parse(s.spec_json)["shot"].dump());
    REQUIRE(spec);
    texts.push_back(spec->action);
    for (const auto& line : spec->dialogue) {
      texts.push_back(line.text);
    }
  }
  auto count = [&](const std::string& needle) {
    std::size_t n = 0;
    for (const auto& t : texts) {
      for (auto at = t.find(needle); at != std::string::npos; at = t.find(needle, at + 1)) {
        ++n;
      }
    }
    return n;
  };
  INFO(Catch::Detail::stringify(texts));
  CHECK(count("When the night is long") == 1);
  CHECK(count("\u266a When the night is long") == 1);
  CHECK(count("and the road is cold") == 1);
  CHECK(count("Sing it once again") == 1);
  CHECK(count("Candles gutter.") == 1);  // ordinary action as written
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

TEST_CASE("provider shots are priced per generation, the animatic by the minute", "[actors]") {
  media_layout layout("/m", "u", "p");
  auto plan = plan_of(script);
  auto animatic = plan_shots(plan, render_settings{}, layout);
  REQUIRE(animatic.size() >= 3);
  const auto by_minute = render_cost(animatic);
  auto a = price_render(animatic);
  CHECK(a.animatic_shots == static_cast<int>(animatic.size()));
  CHECK(a.generation_credits == 0);
  CHECK(a.total() == by_minute);

  // Every shot on a provider: one text-to-video generation each.
  render_settings provider;
  provider.backend = "replicate";
  auto t2v = price_render(plan_shots(plan, provider, layout));
  CHECK(t2v.animatic_shots == 0);
  CHECK(t2v.animatic_credits == 0);
  CHECK(t2v.t2v_shots == static_cast<int>(animatic.size()));
  CHECK(t2v.total() == 5 * static_cast<std::int64_t>(animatic.size()));

  // One shot moved to a provider, with a character's reference image: that
  // shot is image-to-video, the rest stay on the animatic's minute price.
  render_settings mixed;
  const auto& first = animatic.front().shot_id;
  mixed.shot_backends[first] = "comfyui";
  for (const auto& c : plan.characters) {
    mixed.character_images[c.name] = {"references/" + c.name + ".png", "abc123"};
  }
  auto priced = plan_shots(plan, mixed, layout);
  auto m = price_render(priced, generation_prices{4, 9});
  CHECK(m.animatic_shots == static_cast<int>(animatic.size()) - 1);
  CHECK(m.t2v_shots + m.i2v_shots == 1);
  CHECK(m.generation_credits == (m.i2v_shots == 1 ? 9 : 4));
  // A rendered (reused) provider shot is not charged again.
  priced.front().status = "reused";
  CHECK(price_render(priced, generation_prices{4, 9}).generation_credits == 0);
}

TEST_CASE("render settings are checked", "[actors]") {
  auto s = parse_render_settings(R"({"resolution":"640x360","fps":12})");
  REQUIRE(s);
  CHECK(s->width == 640);
  CHECK(s->fps == 12);
  CHECK(parse_render_settings("{}")->width == 1280);
  for (const auto* bad : {R"({"resolution":"641x360"})", R"({"resolution":"big"})", R"({"fps":0})",
                          "[1]", "not json", R"({"watermark":"yes"})", R"({"seed":7})",
                          R"({"seed":""})", R"({"seed":"has space"})", R"({"seed":"../x"})",
                          R"({"characters":{"ANNA":{"image":"references/a.png","sha256":5}}})"}) {
    INFO(bad);
    auto r = parse_render_settings(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(actors_errc::invalid_settings));
  }
}

TEST_CASE("the seed casts a film: the same seed casts the same, the project id otherwise",
          "[actors]") {
  auto seeded = parse_render_settings(R"({"seed":"script-0123abcd"})");
  REQUIRE(seeded);
  CHECK(casting_seed(*seeded, "p1") == "script-0123abcd");
  CHECK(casting_seed(render_settings{}, "p1") == "p1");
  auto again = parse_render_settings(to_json(*seeded));
  REQUIRE(again);
  CHECK(again->seed == "script-0123abcd");

  CHECK(screenplay_seed(script) == screenplay_seed(script));
  CHECK(screenplay_seed(script) != screenplay_seed(std::string(script) + "\nMore.\n"));
  CHECK(parse_render_settings(to_json([] {
          render_settings s;
          s.seed = screenplay_seed("x");
          return s;
        }()))
            ->seed.size() == 31);  // "script-" + 24 hex digits: a valid seed itself
}

TEST_CASE("a backend is chosen per project and per shot and unknown names are refused",
          "[actors]") {
  auto s = parse_render_settings(
      R"({"backend":"comfyui","shots":{"sc2-sh1":{"backend":"replicate"}},
          "characters":{"ANNA":{"image":"references/x.png","sha256":"ab"}}})");
  REQUIRE(s);
  CHECK(s->backend == "comfyui");
  CHECK(s->shot_backends.at("sc2-sh1") == "replicate");
  auto again = parse_render_settings(to_json(*s));
  REQUIRE(again);
  CHECK(again->shot_backends == s->shot_backends);
  CHECK(again->character_images.at("ANNA").path == "references/x.png");

  auto plan = plan_of(script);
  media_layout layout("/media", "u1", "p1");
  auto shots = plan_shots(plan, *s, layout);
  auto animatic = plan_shots(plan, render_settings{}, layout);
  REQUIRE(shots.size() == animatic.size());
  for (std::size_t i = 0; i < shots.size(); ++i) {
    auto spec = nlohmann::json::parse(shots[i].spec_json);
    auto expected = shots[i].shot_id == "sc2-sh1" ? "replicate" : "comfyui";
    CHECK(lease_backend(shots[i].spec_json) == expected);
    CHECK(shots[i].input_hash != animatic[i].input_hash);  // other bytes, other clip
    CHECK(lease_backend(animatic[i].spec_json) == "animatic");
    bool has_anna = spec["shot"]["characters"].dump().find("ANNA") != std::string::npos;
    CHECK(spec.contains("references") == has_anna);
    if (has_anna) {
      CHECK(spec["references"][0]["image"] == "references/x.png");
      CHECK(spec["references"][0]["sha256"] == "ab");
    }
  }

  for (const auto* bad :
       {R"({"backend":"dalle"})", R"({"backend":3})", R"({"shots":{"sc1-sh1":{"backend":"x"}}})",
        R"({"shots":{"sc1-sh1":"comfyui"}})", R"({"characters":{"ANNA":{"image":"/etc/passwd"}}})",
        R"({"characters":{"ANNA":{"image":"../x.png"}}})"}) {
    auto r = parse_render_settings(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(actors_errc::invalid_settings));
  }
  auto unknown = parse_render_settings(R"({"backend":"dalle"})");
  CHECK_THAT(unknown.error().message(), Catch::Contains("animatic, comfyui, replicate, runpod"));
}
