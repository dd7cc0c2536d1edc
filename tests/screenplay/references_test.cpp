#include <catch2/catch.hpp>
#include <set>

#include "reelfarm/screenplay/hash.hpp"
#include "reelfarm/screenplay/heading.hpp"
#include "reelfarm/screenplay/references.hpp"

using namespace reelfarm::screenplay;

TEST_CASE("hash: FNV-1a 64 test vectors", "[references][hash]") {
  CHECK(fnv1a64("") == 0xcbf29ce484222325ULL);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
  CHECK(fnv1a64("foobar") == 0x85944171f73967e8ULL);
}

TEST_CASE("character names normalise across extensions", "[references][names]") {
  CHECK(normalize_character_name("JOHN") == "JOHN");
  CHECK(normalize_character_name("JOHN (V.O.)") == "JOHN");
  CHECK(normalize_character_name("JOHN (CONT'D)") == "JOHN");
  CHECK(normalize_character_name("John (O.S.) (CONT'D)") == "JOHN");
  CHECK(normalize_character_name("@McCLANE") == "MCCLANE");
  CHECK(normalize_character_name("STEEL ^") == "STEEL");
  CHECK(normalize_character_name("DR.  OKAFOR") == "DR. OKAFOR");
  CHECK(normalize_character_name("JOHN CONT'D") == "JOHN");
  CHECK(normalize_character_name("josé") == "JOSÉ");
}

TEST_CASE("scene headings name location, time of day and setting", "[references][heading]") {
  const auto morning = parse_scene_heading("INT. TEMPLE - MORNING");
  const auto night = parse_scene_heading("INT. TEMPLE - NIGHT");
  CHECK(morning.location == "TEMPLE");
  CHECK(night.location == "TEMPLE");
  CHECK(morning.time_of_day == "MORNING");
  CHECK(morning.setting == scene_setting::interior);

  const auto garden = parse_scene_heading("EXT. HOUSE - GARDEN");
  CHECK(garden.location == "HOUSE - GARDEN");
  CHECK(garden.time_of_day.empty());
  CHECK(garden.setting == scene_setting::exterior);

  const auto kitchen = parse_scene_heading("int. house - kitchen - late afternoon");
  CHECK(kitchen.location == "HOUSE - KITCHEN");
  CHECK(kitchen.time_of_day == "LATE AFTERNOON");

  CHECK(parse_scene_heading("INT./EXT. CAR - MOVING - DAY").setting ==
        scene_setting::interior_exterior);
  CHECK(parse_scene_heading("I/E CAR - DAY").location == "CAR");
  CHECK(parse_scene_heading("EST. CITY - DAWN").setting == scene_setting::establishing);
  CHECK(parse_scene_heading("SNIPER SCOPE POV").location == "SNIPER SCOPE POV");
  CHECK(parse_scene_heading("EXT. ROAD \xE2\x80\x93 CONTINUOUS").time_of_day == "CONTINUOUS");
}

TEST_CASE("references are stable and derived from project and name", "[references]") {
  const auto a = make_reference(reference_kind::character, "project-1", "JOHN");
  const auto b = make_reference(reference_kind::character, "project-1", "JOHN");
  const auto other_project = make_reference(reference_kind::character, "project-2", "JOHN");
  const auto other_name = make_reference(reference_kind::character, "project-1", "MARY");
  const auto place = make_reference(reference_kind::location, "project-1", "JOHN");
  CHECK(a.id == b.id);
  CHECK(a.seed == b.seed);
  CHECK(a.palette == b.palette);
  CHECK(a.voice == b.voice);
  CHECK(a.id != other_project.id);
  CHECK(a.seed != other_name.seed);
  CHECK(a.id != place.id);
  CHECK(a.id.starts_with("chr-"));
  CHECK(a.id.size() == 20);
  CHECK(place.id.starts_with("loc-"));
  CHECK(a.seed < (std::uint64_t{1} << 53));
  CHECK(place.voice.name.empty());
  CHECK(a.voice.name.starts_with("en-us+"));
  CHECK(a.voice.pitch >= 35);
  CHECK(a.voice.pitch <= 65);
  CHECK(a.palette[0].hex().size() == 7);
}

TEST_CASE("references: golden values do not drift between builds", "[references]") {
  // If this fails, every existing project would re-render its characters with
  // new looks: change the derivation only with a new version tag.
  const auto ref = make_reference(reference_kind::character, "THE LIGHTHOUSE KEEPER", "MARA");
  CHECK(ref.id == "chr-985c4ada9f4522f0");
  CHECK(ref.seed == 3391247869480936ULL);
  CHECK(ref.voice.name == "en-us+m5");
}

TEST_CASE("references: voices and seeds spread over many names", "[references]") {
  std::set<std::string> voices;
  std::set<std::uint64_t> seeds;
  for (int i = 0; i < 200; ++i) {
    const auto ref = make_reference(reference_kind::character, "p", "NAME " + std::to_string(i));
    voices.insert(ref.voice.name);
    seeds.insert(ref.seed);
  }
  CHECK(voices.size() >= 10);
  CHECK(seeds.size() == 200);
}
