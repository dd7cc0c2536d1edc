#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <string>

#include "reelfarm/screenplay/errc.hpp"
#include "reelfarm/screenplay/plan.hpp"
#include "test_helpers.hpp"

using namespace reelfarm::screenplay;
using namespace std::chrono_literals;
using reelfarm::screenplay::testing::parse;
namespace testing = reelfarm::screenplay::testing;

namespace {

reelfarm::planner_settings defaults() {
  reelfarm::planner_settings s;
  s.speaking_rate_wpm = 150;
  s.reading_rate_wpm = 180;
  s.establishing_shot = 3000ms;
  s.min_shot = 2000ms;
  s.max_shot = 20000ms;
  return s;
}

plan plan_of(std::string_view text, const reelfarm::planner_settings& settings = defaults()) {
  auto p = plan_screenplay(parse(text), settings, "test-project");
  REQUIRE(p.has_value());
  return std::move(p).value();
}

std::string words(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += i == 0 ? "word" : " word";
  }
  return out;
}

}  // namespace

TEST_CASE("planner: establishing, action and dialogue shots per scene", "[planner]") {
  const auto p = plan_of(
      "INT. TEMPLE - MORNING\n\nJohn lights a candle.\n\nJOHN\nIt begins.\n\nMARY\nIt ends.\n\n"
      "EXT. TEMPLE - NIGHT\n\nRain.\n");
  REQUIRE(p.scenes.size() == 2);
  const auto& first = p.scenes[0];
  REQUIRE(first.shots.size() == 4);
  CHECK(first.shots[0].kind == shot_kind::establishing);
  CHECK(first.shots[0].duration == 3000ms);
  CHECK(first.shots[1].kind == shot_kind::action);
  CHECK(testing::names(first.shots[1].characters) == std::vector<std::string>{"JOHN"});
  CHECK(first.shots[2].kind == shot_kind::dialogue);
  CHECK(testing::at(first.shots[2].speech, 0).character == "JOHN");
  CHECK(testing::at(first.shots[2].speech, 0).text == "It begins.");
  CHECK(testing::names(first.shots[3].characters) == std::vector<std::string>{"MARY"});
  CHECK(first.location == "TEMPLE");
  CHECK(first.time_of_day == "MORNING");
  CHECK(first.shots[0].text == "TEMPLE \xE2\x80\x94 MORNING");
  CHECK(first.shots[1].text == "John lights a candle.");
  CHECK(first.shots[2].text.empty());
  CHECK(testing::names(first.characters) == std::vector<std::string>{"JOHN", "MARY"});
  CHECK(p.scenes[1].shots.size() == 2);
  CHECK(p.scenes[1].number == 2);
  CHECK(p.shot_count() == 6);
}

TEST_CASE("planner: durations from words, speaking and reading rates", "[planner][duration]") {
  // 15 spoken words at 150 wpm: 6 s. 30 action words at 180 wpm: 10 s.
  const auto p = plan_of("INT. ROOM - DAY\n\n" + words(30) + "\n\nJOHN\n" + words(15) + "\n");
  const auto& shots = p.scenes[0].shots;
  CHECK(shots[1].duration == 10000ms);
  CHECK(shots[2].duration == 6000ms);
  CHECK(p.duration == 19000ms);
  CHECK(p.scenes[0].duration == 19000ms);
  CHECK(p.cost_credits == 3);
}

TEST_CASE("planner: parentheticals are not spoken and do not count", "[planner][duration]") {
  const auto p =
      plan_of("JOHN\n(very slowly and with great care and feeling)\n" + words(10) + "\n");
  const auto& s = p.scenes[0].shots[0];
  CHECK(s.duration == 4000ms);
  CHECK(testing::at(s.speech, 0).parenthetical == "(very slowly and with great care and feeling)");
}

TEST_CASE("planner: durations are clamped to the minimum", "[planner][duration]") {
  const auto p = plan_of("JOHN\nNo.\n");
  CHECK(p.scenes[0].shots[0].duration == 2000ms);
}

TEST_CASE("planner: long content is split into shots no longer than the maximum",
          "[planner][duration]") {
  // 100 spoken words: 40 s, two shots of 20 s; 120 action words: 40 s, two shots.
  const auto p =
      plan_of("INT. ROOM - DAY\n\nJOHN\n(softly)\n" + words(100) + "\n\n" + words(120) + "\n");
  const auto& shots = p.scenes[0].shots;
  REQUIRE(shots.size() == 5);
  CHECK(shots[1].kind == shot_kind::dialogue);
  CHECK(shots[1].duration == 20000ms);
  CHECK(shots[2].duration == 20000ms);
  CHECK(shots[1].part == 1);
  CHECK(shots[2].part == 2);
  CHECK(shots[2].parts == 2);
  CHECK(testing::at(shots[1].speech, 0).parenthetical == "(softly)");
  CHECK(testing::at(shots[2].speech, 0).parenthetical.empty());
  CHECK(shots[3].kind == shot_kind::action);
  CHECK(shots[3].duration == 20000ms);
  for (const auto& s : shots) {
    CHECK(s.duration <= 20000ms);
    CHECK(s.duration >= 2000ms);
  }
  CHECK(std::string(testing::at(shots[1].speech, 0).text) + " " +
            std::string(testing::at(shots[2].speech, 0).text) ==
        words(100));
}

TEST_CASE("planner: settings change durations", "[planner][duration]") {
  auto settings = defaults();
  settings.speaking_rate_wpm = 60;
  settings.min_shot = 500ms;
  settings.establishing_shot = 1000ms;
  const auto p = plan_of("INT. ROOM - DAY\n\nJOHN\nOne two three.\n", settings);
  CHECK(p.scenes[0].shots[0].duration == 1000ms);
  CHECK(p.scenes[0].shots[1].duration == 3000ms);
}

TEST_CASE("planner: dual dialogue is one two-shot lasting the longer speech", "[planner][dual]") {
  const auto p =
      plan_of("INT. ROOM - DAY\n\nBRICK\n" + words(10) + "\n\nSTEEL ^\n" + words(20) + "\n");
  const auto& shots = p.scenes[0].shots;
  REQUIRE(shots.size() == 2);
  CHECK(shots[1].kind == shot_kind::two_shot);
  CHECK(testing::names(shots[1].characters) == std::vector<std::string>{"BRICK", "STEEL"});
  CHECK(shots[1].speech.size() == 2);
  CHECK(shots[1].duration == 8000ms);
}

TEST_CASE("planner: voice-over speakers are heard, not seen", "[planner]") {
  const auto p = plan_of("INT. ROOM - DAY\n\nJOHN (V.O.)\nI remember.\n");
  const auto& s = p.scenes[0].shots[1];
  CHECK(s.characters.empty());
  CHECK(testing::at(s.speech, 0).character == "JOHN");
  CHECK(testing::at(s.speech, 0).extension == "V.O.");
}

TEST_CASE("planner: one reference per character and per location", "[planner][references]") {
  const auto p = plan_of(
      "INT. TEMPLE - MORNING\n\nJOHN\nHi.\n\nJOHN (CONT'D)\nStill me.\n\n"
      "INT. TEMPLE - NIGHT\n\nJOHN (V.O.)\nLater.\n\n@John\nForced.\n\nEXT. FIELD - DAY\n\nJohn's "
      "dog runs.\n");
  REQUIRE(p.characters.size() == 1);
  CHECK(p.characters[0].name == "JOHN");
  CHECK(p.characters[0].first_line == 3);
  REQUIRE(p.locations.size() == 2);
  CHECK(p.locations[0].name == "TEMPLE");
  CHECK(p.locations[1].name == "FIELD");
  CHECK(testing::names(p.scenes[2].shots[1].characters) == std::vector<std::string>{"JOHN"});
  CHECK(p.characters[0].shots == 4);
  CHECK(p.locations[0].shots == 6);
}

TEST_CASE("planner: mentions of multi-word names", "[planner][references]") {
  const auto p = plan_of("DR. OKAFOR\nSit.\n\nDr. Okafor opens the file. The doctor waits.\n");
  CHECK(testing::names(p.scenes[0].shots[1].characters) == std::vector<std::string>{"DR. OKAFOR"});
}

TEST_CASE("planner: transitions, sections and FADE IN: make no shot", "[planner]") {
  const auto p = plan_of(
      "FADE IN:\n\n# ACT ONE\n\n= Intro\n\nINT. ROOM - DAY\n\nQuiet.\n\nCUT TO:\n\n===\n\n> THE "
      "END <\n\nFADE OUT.\n");
  REQUIRE(p.scenes.size() == 1);
  const auto& shots = p.scenes[0].shots;
  REQUIRE(shots.size() == 3);
  CHECK(shots[2].kind == shot_kind::card);
  CHECK(shots[2].text == "THE END");
}

TEST_CASE("planner: text to render is plain, notes removed", "[planner]") {
  const auto p =
      plan_of("INT. ROOM - DAY\n\nHe *really* [[check]] waits.\n\nJOHN\n**No.** \\*sigh\\*\n");
  CHECK(p.scenes[0].shots[1].text == "He really  waits.");
  CHECK(testing::at(p.scenes[0].shots[2].speech, 0).text == "No. *sigh*");
}

TEST_CASE("planner: material before the first heading is a prologue scene", "[planner]") {
  const auto p = plan_of("A black screen. A voice.\n\nINT. ROOM - DAY\n\nLight.\n");
  REQUIRE(p.scenes.size() == 2);
  CHECK(p.scenes[0].heading.empty());
  CHECK(p.scenes[0].shots.size() == 1);
  CHECK(p.scenes[0].location.empty());
  CHECK(p.scenes[1].number == 2);
}

TEST_CASE("planner: empty screenplays are an error", "[planner][errors]") {
  for (const char* text :
       {"", "\n\n", "Title: Nothing\nAuthor: Nobody\n", "FADE IN:\n\nFADE OUT.\n",
        "[[only a note]]\n", "/* all cut */\n", "# Act\n\n= synopsis\n"}) {
    INFO(text);
    auto p = plan_screenplay(parse(text), defaults(), "p");
    REQUIRE_FALSE(p.has_value());
    CHECK(p.error().is(reelfarm::screenplay_errc::empty));
  }
}

TEST_CASE("planner: unusable settings are an error", "[planner][errors]") {
  auto settings = defaults();
  settings.speaking_rate_wpm = 0;
  auto p = plan_screenplay(parse("Action.\n"), settings, "p");
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().is(reelfarm::screenplay_errc::invalid_argument));
  settings = defaults();
  settings.min_shot = 30000ms;
  CHECK_FALSE(plan_screenplay(parse("Action.\n"), settings, "p").has_value());
}

TEST_CASE("planner: the same screenplay always plans the same", "[planner]") {
  const std::string text = "INT. TEMPLE - DAY\n\nJOHN\nHi.\n\nMARY ^\nHello.\n";
  const auto a = plan_of(text);
  const auto b = plan_of(text);
  REQUIRE(a.characters.size() == b.characters.size());
  for (std::size_t i = 0; i < a.characters.size(); ++i) {
    CHECK(a.characters[i].id == b.characters[i].id);
    CHECK(a.characters[i].seed == b.characters[i].seed);
  }
  CHECK(a.duration == b.duration);
}

TEST_CASE("planner: texts outlive the source, the document and the original plan",
          "[planner][arena]") {
  // Element and shot texts are views into arenas shared by copies: each must
  // stay valid after everything it came from is gone (ASan checks in
  // REELFARM_SANITIZE builds and in the fuzzer).
  auto source = std::make_unique<std::string>(
      "INT. TEMPLE - DAY #4#\n\nJOHN walks in, *slowly*.\n\nJOHN (V.O.)\n(quietly)\nHi "
      "[[a note]] there.\n\nMARY ^\nHello.\n\n> THE END <\n");
  std::optional<document> doc_copy;
  std::optional<plan> plan_copy;
  {
    document doc = parse(*source);
    source.reset();  // the document owns its texts
    doc_copy = doc;
    auto p = plan_screenplay(doc, defaults(), "p");
    REQUIRE(p.has_value());
    plan_copy = *p;
  }  // the document and the original plan are gone
  REQUIRE(doc_copy->elements.size() >= 2);
  CHECK(doc_copy->elements[0].text == "INT. TEMPLE - DAY");
  CHECK(doc_copy->elements[0].scene_number == "4");
  const scene& s = plan_copy->scenes.at(0);
  CHECK(s.heading == "INT. TEMPLE - DAY");
  CHECK(s.location == "TEMPLE");
  REQUIRE(s.shots.size() == 4);
  CHECK(s.shots[0].text == "TEMPLE \xE2\x80\x94 DAY");
  CHECK(s.shots[1].text == "JOHN walks in, slowly.");
  const spoken_line& hi = testing::at(s.shots[2].speech, 0);
  CHECK(hi.character == "JOHN");
  CHECK(hi.extension == "V.O.");
  CHECK(hi.parenthetical == "(quietly)");
  CHECK(hi.text == "Hi  there.");
  CHECK(testing::names(s.characters) == std::vector<std::string>{"JOHN", "MARY"});
  CHECK(s.shots[3].text == "THE END");
}
