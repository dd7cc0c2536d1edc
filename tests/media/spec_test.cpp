#include <catch2/catch.hpp>

#include "media_test_helpers.hpp"
#include "reelfarm/media/errc.hpp"
#include "reelfarm/media/spec_json.hpp"

using namespace reelfarm;
using namespace reelfarm::media;

namespace {

void check_rejected(shot_spec s, const std::string& fragment) {
  auto r = validate(s);
  REQUIRE_FALSE(r);
  CHECK(r.error().is(media_errc::invalid_spec));
  CHECK_THAT(r.error().message(), Catch::Contains(fragment));
}

}  // namespace

TEST_CASE("a sensible shot is valid", "[media][spec]") {
  CHECK(validate(mtest::small_shot("s1")));
}

TEST_CASE("bad shots are rejected with the field named", "[media][spec]") {
  auto base = mtest::small_shot("s1");
  auto s = base;
  s.width = 100;
  check_rejected(s, "width");
  s = base;
  s.width = 321;
  check_rejected(s, "even");
  s = base;
  s.height = 5000;
  check_rejected(s, "height");
  s = base;
  s.fps = 0;
  check_rejected(s, "fps");
  s = base;
  s.duration_s = 0;
  check_rejected(s, "duration");
  s = base;
  s.duration_s = std::nan("");
  check_rejected(s, "duration");
  s = base;
  s.id = "../etc";
  check_rejected(s, "shot id");
  s = base;
  s.dialogue[0].character = "ZED";
  check_rejected(s, "ZED");
  s = base;
  s.action = std::string(5000, 'a');
  check_rejected(s, "action");
  s = base;
  s.dialogue[0].text = "bad \xff utf8";
  check_rejected(s, "UTF-8");
  s = base;
  s.characters[0].voice.name = "en; rm -rf /";
  check_rejected(s, "voice");
  s = base;
  s.characters[1].name = "ANNA";
  check_rejected(s, "twice");
}

TEST_CASE("a shot spec parses from JSON", "[media][spec]") {
  auto shot = parse_shot_spec(R"({"id":"s-1","kind":"two-shot","duration":2.5,
    "location":{"name":"EXT. PARK - DAY","palette":["#88cc88","#446644"],"seed":3},
    "characters":[{"name":"A","seed":1,"palette":["#ff0000"],"voice":{"name":"en-us","pitch":40,"speed":150}}],
    "dialogue":[{"character":"A","text":"Hello.","parenthetical":"quietly"}],"watermark":true})");
  REQUIRE(shot);
  CHECK(shot->kind == shot_kind::two_shot);
  CHECK(shot->width == 1280);
  CHECK(shot->location.palette[0] == rgb{0x88, 0xcc, 0x88});
  CHECK(shot->characters[0].voice.pitch == 40);
  CHECK(shot->dialogue[0].parenthetical == "quietly");
  CHECK(shot->watermark);
}

TEST_CASE("broken JSON specs are errors, never crashes", "[media][spec]") {
  for (const char* text :
       {"", "{", "[]", R"({"id":5})", R"({"id":"a","width":"wide"})", R"({"id":"a","width":1e30})",
        R"({"id":"a","fps":2.5})", R"({"id":"a","kind":"montage"})",
        R"({"id":"a","characters":{}})", R"({"id":"a","location":{"palette":["blue"]}})",
        R"({"id":"a","characters":[{"name":"A","seed":"x"}]})"}) {
    auto shot = parse_shot_spec(text);
    INFO(text);
    REQUIRE_FALSE(shot);
    CHECK(shot.error().is(media_errc::invalid_spec));
  }
}

TEST_CASE("a film needs one resolution and unique shot ids", "[media][spec]") {
  auto film = parse_film_spec(R"({"title":"T","width":320,"height":180,
    "scenes":[{"id":"sc1","shots":[{"id":"a"},{"id":"a"}]}]})");
  REQUIRE_FALSE(film);
  CHECK_THAT(film.error().message(), Catch::Contains("twice"));
  film = parse_film_spec(
      R"({"scenes":[{"id":"sc1","shots":[{"id":"a"},{"id":"b","width":640,"height":360}]}]})");
  REQUIRE_FALSE(film);
  CHECK_THAT(film.error().message(), Catch::Contains("resolution"));
  film = parse_film_spec(R"({"title":"T","width":320,"height":180,
    "scenes":[{"id":"sc1","shots":[{"id":"a"},{"id":"b"}]}]})");
  REQUIRE(film);
  CHECK(film->scenes[0].shots[1].width == 320);
}
