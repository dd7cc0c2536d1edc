// Whole screenplays, written for these tests, with their element counts
// counted by hand.
#include <catch2/catch.hpp>

#include "reelfarm/screenplay/cost.hpp"
#include "reelfarm/screenplay/generator.hpp"
#include "reelfarm/screenplay/plan.hpp"
#include "test_helpers.hpp"

using namespace reelfarm::screenplay;
using namespace std::chrono_literals;
using reelfarm::screenplay::testing::data_file;
using reelfarm::screenplay::testing::parse;
namespace testing = reelfarm::screenplay::testing;
using reelfarm::screenplay::testing::read_file;
using K = element_kind;

namespace {

std::size_t dual_pairs(const document& doc) {
  std::size_t n = 0;
  for (const auto& e : doc.elements) {
    n += e.kind == K::character && e.dual == dual_side::right ? 1 : 0;
  }
  return n;
}

std::size_t shots_of(const plan& p, shot_kind kind) {
  std::size_t n = 0;
  for (const auto& sc : p.scenes) {
    for (const auto& s : sc.shots) {
      n += s.kind == kind ? 1 : 0;
    }
  }
  return n;
}

void check_lines_ascend(const document& doc) {
  std::uint32_t last = 0;
  for (const auto& e : doc.elements) {
    CHECK(e.line >= last);
    CHECK(e.line >= 1);
    CHECK(e.line <= doc.line_count);
    last = e.line;
  }
}

plan plan_of(const document& doc) {
  auto p = plan_screenplay(doc, reelfarm::planner_settings{}, "documents-test");
  REQUIRE(p.has_value());
  return std::move(p).value();
}

}  // namespace

TEST_CASE("document: NIGHT SHIFT, every feature", "[fountain][documents]") {
  const auto doc = parse(data_file("night_shift.fountain"));
  CHECK(doc.title() == "NIGHT SHIFT A short");
  CHECK(doc.title_page.size() == 8);
  CHECK(doc.title_value("Contact") == "Reelfarm Productions\n1 Dock Street\nHarbour Town");
  CHECK(doc.count(K::scene_heading) == 7);
  CHECK(doc.count(K::character) == 20);
  CHECK(doc.count(K::dialogue) == 19);
  CHECK(doc.count(K::parenthetical) == 4);
  CHECK(doc.count(K::lyrics) == 2);
  CHECK(doc.count(K::action) == 13);
  CHECK(doc.count(K::transition) == 1);
  CHECK(doc.count(K::centered) == 2);
  CHECK(doc.count(K::section) == 2);
  CHECK(doc.count(K::synopsis) == 1);
  CHECK(doc.count(K::page_break) == 1);
  CHECK(dual_pairs(doc) == 2);
  CHECK(doc.notes.size() == 1);
  CHECK(doc.boneyard.size() == 1);
  check_lines_ascend(doc);

  // Line numbers point at the source, past the note and boneyard.
  for (const auto& e : doc.elements) {
    if (e.kind == K::scene_heading && e.scene_number == "4") {
      CHECK(e.line == 86);
    }
    if (e.kind == K::lyrics && !e.text.starts_with("When the night is long and")) {
      CHECK(e.line == 131);
    }
  }

  const auto p = plan_of(doc);
  CHECK(p.scenes.size() == 7);
  CHECK(p.characters.size() == 5);
  CHECK(p.locations.size() == 5);
  CHECK(shots_of(p, shot_kind::establishing) == 7);
  CHECK(shots_of(p, shot_kind::two_shot) == 2);
  CHECK(shots_of(p, shot_kind::dialogue) == 16);
  CHECK(shots_of(p, shot_kind::action) == 12);
  CHECK(shots_of(p, shot_kind::card) == 2);
  CHECK(p.cost_credits == reelfarm::screenplay::cost_credits(p.duration));
}

TEST_CASE("document: COLD OPEN, no title page, lower-case heading, V.O. dual",
          "[fountain][documents]") {
  const auto doc = parse(data_file("cold_open.fountain"));
  CHECK(doc.title_page.empty());
  CHECK(doc.count(K::scene_heading) == 5);
  CHECK(doc.count(K::character) == 6);
  CHECK(doc.count(K::dialogue) == 6);
  CHECK(doc.count(K::transition) == 2);
  CHECK(doc.count(K::action) == 6);
  CHECK(dual_pairs(doc) == 1);
  check_lines_ascend(doc);

  const auto p = plan_of(doc);
  CHECK(p.characters.size() == 2);
  CHECK(p.locations.size() == 5);
  CHECK(p.locations[1].name == "APARTMENT - KITCHEN");
  CHECK(p.scenes[3].location == "LEO'S CAR - MOVING");
  CHECK(p.scenes[3].setting == scene_setting::interior_exterior);
  REQUIRE(shots_of(p, shot_kind::two_shot) == 1);
  CHECK(testing::names(p.scenes[3].shots.back().characters) == std::vector<std::string>{"LEO"});
}

TEST_CASE("document: the example screenplay fits a Free plan", "[fountain][documents]") {
  const auto doc = parse(read_file(std::string(REELFARM_EXAMPLES_DIR) + "/sample.fountain"));
  CHECK(doc.title() == "THE LIGHTHOUSE KEEPER");
  CHECK(doc.title_page.size() == 6);
  CHECK(doc.count(K::scene_heading) == 5);
  CHECK(doc.count(K::character) == 7);
  CHECK(dual_pairs(doc) == 1);
  CHECK(doc.notes.size() == 1);
  CHECK(doc.boneyard.size() == 1);
  const auto p = plan_of(doc);
  CHECK(p.characters.size() == 4);
  CHECK(p.locations.size() == 3);
  CHECK(p.duration >= 30s);
  CHECK(p.duration <= 60s);
  CHECK(p.cost_credits == 3);
}

TEST_CASE("document: the generated screenplay is deterministic and plans",
          "[fountain][documents]") {
  const std::string text = generate_screenplay(256 * 1024, 7);
  CHECK(text.size() >= 256 * 1024);
  CHECK(text == generate_screenplay(256 * 1024, 7));
  CHECK(text != generate_screenplay(256 * 1024, 8));
  const auto doc = parse(text);
  check_lines_ascend(doc);
  CHECK(doc.count(K::scene_heading) > 100);
  CHECK(dual_pairs(doc) > 10);
  CHECK(!doc.boneyard.empty());
  CHECK(!doc.notes.empty());
  const auto p = plan_of(doc);
  CHECK(p.scenes.size() == doc.count(K::scene_heading));
  CHECK(p.characters.size() == 12);
}
