// One test per syntax rule of Fountain 1.1 (fountain.io/syntax).
#include <catch2/catch.hpp>

#include "reelfarm/screenplay/errc.hpp"
#include "test_helpers.hpp"

using namespace reelfarm::screenplay;
using reelfarm::screenplay::testing::kinds;
using reelfarm::screenplay::testing::parse;
using K = element_kind;

TEST_CASE("scene headings: every prefix, any case, dot or space", "[fountain][heading]") {
  for (const char* line :
       {"INT. HOUSE - DAY", "EXT. BEACH - NIGHT", "EST. CITY - DAWN", "INT./EXT. CAR - DAY",
        "INT/EXT CAR - DAY", "I/E CAR - DAY", "int house - day", "Ext. Garden", "i/e. train"}) {
    INFO(line);
    const auto doc = parse(std::string("Some action.\n\n") + line + "\n\nMore action.\n");
    REQUIRE(kinds(doc) == std::vector<K>{K::action, K::scene_heading, K::action});
    CHECK(doc.elements[1].text == line);
    CHECK(doc.elements[1].line == 3);
  }
}

TEST_CASE("scene headings: not a heading without a blank line before or a separator",
          "[fountain][heading]") {
  CHECK(kinds(parse("He walks in.\nINT. HOUSE - DAY\n")) == std::vector<K>{K::action});
  CHECK(kinds(parse("INTERIOR DESIGN is his passion.\n")) == std::vector<K>{K::action});
  CHECK(kinds(parse("EXTRA! EXTRA!\n")) == std::vector<K>{K::action});
  CHECK(kinds(parse("INT.\n")) == std::vector<K>{K::action});
}

TEST_CASE("scene headings: forced with a period, but not by an ellipsis", "[fountain][heading]") {
  auto doc = parse(".SNIPER SCOPE POV\n\n...and then nothing.\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::scene_heading, K::action});
  CHECK(doc.elements[0].text == "SNIPER SCOPE POV");
  CHECK(doc.elements[0].forced);
  CHECK(doc.elements[1].text == "...and then nothing.");
}

TEST_CASE("scene headings: scene numbers", "[fountain][heading]") {
  auto doc = parse(
      "INT. HOUSE - DAY #1#\n\nEXT. YARD - NIGHT #1A#\n\n.FLASHBACK #I-1-A#\n\nINT. ROOM #12.3#\n");
  REQUIRE(doc.count(K::scene_heading) == 4);
  CHECK(doc.elements[0].text == "INT. HOUSE - DAY");
  CHECK(doc.elements[0].scene_number == "1");
  CHECK(doc.elements[1].scene_number == "1A");
  CHECK(doc.elements[2].scene_number == "I-1-A");
  CHECK(doc.elements[2].text == "FLASHBACK");
  CHECK(doc.elements[3].scene_number == "12.3");
}

TEST_CASE("action: line breaks and indentation are kept, tabs become four spaces",
          "[fountain][action]") {
  auto doc = parse("They sit.\n    Indented line.\n\tTabbed line.\n\nNext paragraph.\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::action, K::action});
  CHECK(doc.elements[0].text == "They sit.\n    Indented line.\n    Tabbed line.");
  CHECK(doc.elements[1].line == 5);
}

TEST_CASE("action: forced with an exclamation mark", "[fountain][action]") {
  auto doc = parse("!SCANNING THE AISLES...\nWhere is the milk?\n\n!INT. NOT A HEADING\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::action, K::action});
  CHECK(doc.elements[0].text == "SCANNING THE AISLES...\nWhere is the milk?");
  CHECK(doc.elements[0].forced);
  CHECK(doc.elements[1].text == "INT. NOT A HEADING");
}

TEST_CASE("action: two spaces keep a paragraph together", "[fountain][action]") {
  auto doc = parse("First line.\n  \nSecond line.\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::action});
  CHECK(doc.elements[0].text == "First line.\n\nSecond line.");
}

TEST_CASE("character: all caps with dialogue after, at least one letter", "[fountain][character]") {
  auto doc = parse("STEEL\nThe man's a myth!\n\nR2-D2\nBeep.\n\n1984\nNot a character.\n");
  REQUIRE(kinds(doc) ==
          std::vector<K>{K::character, K::dialogue, K::character, K::dialogue, K::action});
  CHECK(doc.elements[0].text == "STEEL");
  CHECK(doc.elements[1].text == "The man's a myth!");
  CHECK(doc.elements[1].line == 2);
  CHECK(doc.elements[4].text == "1984\nNot a character.");
}

TEST_CASE("character: needs a blank line before and dialogue after", "[fountain][character]") {
  CHECK(kinds(parse("He yells.\nSTOP\nShe stops.\n")) == std::vector<K>{K::action});
  CHECK(kinds(parse("BOOM\n\nThe wall falls.\n")) == std::vector<K>{K::action, K::action});
}

TEST_CASE("character: extensions, in any case", "[fountain][character]") {
  auto doc = parse(
      "MOM (O. S.)\nLuke!\n\nHANS (on the radio)\nWhat was it?\n\nJOHN (V.O.) (CONT'D)\nYes.\n");
  REQUIRE(doc.count(K::character) == 3);
  CHECK(doc.elements[0].text == "MOM (O. S.)");
  CHECK(doc.elements[2].text == "HANS (on the radio)");
  CHECK(doc.elements[4].text == "JOHN (V.O.) (CONT'D)");
}

TEST_CASE("character: forced with @, lower case allowed", "[fountain][character]") {
  auto doc = parse("@McCLANE\nYippie ki-yay!\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::character, K::dialogue});
  CHECK(doc.elements[0].text == "McCLANE");
  CHECK(doc.elements[0].forced);
}

TEST_CASE("character: names in other alphabets", "[fountain][character]") {
  auto doc = parse("JOSÉ\nHola.\n\nJosé\nNot a name line.\n\nΣΩΚΡΑΤΗΣ\nΓνῶθι σεαυτόν.\n");
  REQUIRE(kinds(doc) ==
          std::vector<K>{K::character, K::dialogue, K::action, K::character, K::dialogue});
}

TEST_CASE("dialogue: lines join until a blank line, parentheticals split", "[fountain][dialogue]") {
  auto doc =
      parse("STEEL\n(starting the engine)\nSo much for retirement!\nLet's go.\n(beat)\nNow.\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::character, K::parenthetical, K::dialogue,
                                       K::parenthetical, K::dialogue});
  CHECK(doc.elements[1].text == "(starting the engine)");
  CHECK(doc.elements[2].text == "So much for retirement!\nLet's go.");
  CHECK(doc.elements[2].in_dialogue);
  CHECK(doc.elements[4].line == 6);
}

TEST_CASE("dialogue: two spaces keep an empty line inside dialogue", "[fountain][dialogue]") {
  auto doc = parse("DEALER\nTen.\nFour.\n  \nDealer gets a seven.\n\nHe leaves.\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::character, K::dialogue, K::action});
  CHECK(doc.elements[1].text == "Ten.\nFour.\n\nDealer gets a seven.");
}

TEST_CASE("dialogue: indented character and dialogue lines", "[fountain][dialogue]") {
  auto doc = parse("\t\t\tBRICK\n\t\tScrew retirement.\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::character, K::dialogue});
  CHECK(doc.elements[0].text == "BRICK");
  CHECK(doc.elements[1].text == "Screw retirement.");
}

TEST_CASE("dual dialogue: a caret pairs a block with the one before", "[fountain][dual]") {
  auto doc = parse("BRICK\nScrew retirement.\n\nSTEEL ^\nScrew retirement.\n\nBRICK\nAlone.\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::character, K::dialogue, K::character, K::dialogue,
                                       K::character, K::dialogue});
  CHECK(doc.elements[0].dual == dual_side::left);
  CHECK(doc.elements[1].dual == dual_side::left);
  CHECK(doc.elements[2].dual == dual_side::right);
  CHECK(doc.elements[2].text == "STEEL");
  CHECK(doc.elements[3].dual == dual_side::right);
  CHECK(doc.elements[4].dual == dual_side::none);
}

TEST_CASE("dual dialogue: a caret without a block before is plain dialogue", "[fountain][dual]") {
  auto doc = parse("He waits.\n\nSTEEL ^\nHello?\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::action, K::character, K::dialogue});
  CHECK(doc.elements[1].dual == dual_side::none);
  CHECK(doc.elements[1].text == "STEEL");
}

TEST_CASE("lyrics: a tilde, in dialogue or alone", "[fountain][lyrics]") {
  auto doc = parse(
      "~Willy Wonka! Willy Wonka!\n~The amazing chocolatier!\n\nCHARLIE\n~Pure imagination.\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::lyrics, K::character, K::lyrics});
  CHECK(doc.elements[0].text == "Willy Wonka! Willy Wonka!\nThe amazing chocolatier!");
  CHECK_FALSE(doc.elements[0].in_dialogue);
  CHECK(doc.elements[2].in_dialogue);
}

TEST_CASE("transitions: upper case ending in TO: with blank lines around",
          "[fountain][transition]") {
  auto doc = parse("Action.\n\nCUT TO:\n\nSMASH CUT TO:\n\nAction.\nCUT TO:\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::action, K::transition, K::transition, K::action});
  CHECK(doc.elements[1].text == "CUT TO:");
  CHECK(doc.elements[3].text == "Action.\nCUT TO:");
}

TEST_CASE("transitions: forced with >", "[fountain][transition]") {
  auto doc = parse(">Burn to White.\n\n> FADE OUT.\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::transition, K::transition});
  CHECK(doc.elements[0].text == "Burn to White.");
  CHECK(doc.elements[1].text == "FADE OUT.");
  CHECK(doc.elements[0].forced);
}

TEST_CASE("centered text between > and <", "[fountain][centered]") {
  auto doc = parse(">THE END<\n\n> INTERMISSION <\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::centered, K::centered});
  CHECK(doc.elements[0].text == "THE END");
  CHECK(doc.elements[1].text == "INTERMISSION");
}

TEST_CASE("page breaks, sections and synopses", "[fountain][structure]") {
  auto doc =
      parse("# ACT I\n\n= Set up the characters.\n\n## Sequence 1\n\n===\n\n### Scene beat\n");
  REQUIRE(kinds(doc) ==
          std::vector<K>{K::section, K::synopsis, K::section, K::page_break, K::section});
  CHECK(doc.elements[0].text == "ACT I");
  CHECK(doc.elements[0].depth == 1);
  CHECK(doc.elements[1].text == "Set up the characters.");
  CHECK(doc.elements[2].depth == 2);
  CHECK(doc.elements[4].depth == 3);
  CHECK(doc.elements[3].line == 7);
}

TEST_CASE("notes: inline and multi-line, removed from the text", "[fountain][notes]") {
  auto doc = parse(
      "He opens the door. [[Is it locked?]] It opens.\n\n[[A note\nover two lines]]\n\n"
      "MARY\n[[note between name and dialogue]]\nHello.\n\nShe leaves.\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::action, K::character, K::dialogue, K::action});
  CHECK(doc.elements[0].text == "He opens the door.  It opens.");
  REQUIRE(doc.notes.size() == 3);
  CHECK(doc.notes[0].text == "Is it locked?");
  CHECK(doc.notes[1].text == "A note\nover two lines");
  CHECK(doc.notes[1].line == 3);
  CHECK(doc.elements[1].line == 6);
  CHECK(doc.elements[3].line == 10);
}

TEST_CASE("notes: an empty line ends a note unless it holds two spaces", "[fountain][notes]") {
  auto doc = parse("Before [[open\n\nafter.\n\n[[joined\n  \nnote]]\n");
  CHECK(doc.notes.size() == 1);
  CHECK(doc.notes[0].text == "joined\n  \nnote");
  REQUIRE(doc.elements.size() == 2);
  CHECK(doc.elements[0].text == "Before [[open");
}

TEST_CASE("boneyard: removed, across blank lines, line numbers kept", "[fountain][boneyard]") {
  auto doc = parse(
      "COGNITO\nEveryone's coming after you.\n\n/*\nCOGNITO\nYou have to "
      "leave.\n\nBRICK\nNo.\n*/\n\n"
      "He turns /* slowly */ away.\n");
  REQUIRE(kinds(doc) == std::vector<K>{K::character, K::dialogue, K::action});
  CHECK(doc.elements[2].text == "He turns  away.");
  CHECK(doc.elements[2].line == 12);
  REQUIRE(doc.boneyard.size() == 2);
  CHECK(doc.boneyard[0].line == 4);
}

TEST_CASE("boneyard: an unclosed opener is literal", "[fountain][boneyard]") {
  auto doc = parse("Price /* per unit.\n");
  REQUIRE(doc.elements.size() == 1);
  CHECK(doc.elements[0].text == "Price /* per unit.");
}

TEST_CASE("title page: keys, inline and indented multi-line values", "[fountain][title]") {
  auto doc = parse(
      "Title:\n    _**BRICK & STEEL**_\n    _**FULL RETIRED**_\nCredit: Written by\nAuthor: Stu "
      "Maschwitz\n"
      "Source: Story by KTM\nDraft date: 1/20/2012\nContact:\n    Next Level Productions\n"
      "    1588 Mission Dr.\nCopyright: (c) 2012\nNotes: first draft\nRevision: blue\n\n"
      "EXT. BRICK'S PATIO - DAY\n\nA gorgeous day.\n");
  REQUIRE(doc.title_page.size() == 9);
  CHECK(doc.title_page[0].key == "Title");
  CHECK(doc.title_page[0].value == "_**BRICK & STEEL**_\n_**FULL RETIRED**_");
  CHECK(doc.title() == "BRICK & STEEL FULL RETIRED");
  CHECK(doc.title_value("draft DATE") == "1/20/2012");
  CHECK(doc.title_value("contact") == "Next Level Productions\n1588 Mission Dr.");
  CHECK(doc.title_page[4].line == 7);
  REQUIRE(kinds(doc) == std::vector<K>{K::scene_heading, K::action});
  CHECK(doc.elements[0].line == 15);
}

TEST_CASE("title page: FADE IN: alone is not a title page", "[fountain][title]") {
  auto doc = parse("FADE IN:\n\nINT. HOUSE - DAY\n\nQuiet.\n");
  CHECK(doc.title_page.empty());
  CHECK(kinds(doc) == std::vector<K>{K::action, K::scene_heading, K::action});
}

TEST_CASE("encodings: BOM, CRLF, CR, invalid UTF-8", "[fountain][encoding]") {
  const auto lf = parse("INT. HOUSE - DAY\n\nJOHN\nHi.\n");
  const auto crlf = parse("\xEF\xBB\xBFINT. HOUSE - DAY\r\n\r\nJOHN\r\nHi.\r\n");
  const auto cr = parse("INT. HOUSE - DAY\r\rJOHN\rHi.\r");
  REQUIRE(kinds(crlf) == kinds(lf));
  REQUIRE(kinds(cr) == kinds(lf));
  for (std::size_t i = 0; i < lf.elements.size(); ++i) {
    CHECK(crlf.elements[i].text == lf.elements[i].text);
    CHECK(crlf.elements[i].line == lf.elements[i].line);
    CHECK(cr.elements[i].line == lf.elements[i].line);
  }
  const auto bad = parse("He says \xC3\x28 and \xFF.\n");
  CHECK(bad.elements[0].text == "He says \xEF\xBF\xBD( and \xEF\xBF\xBD.");
}

TEST_CASE("encodings: UTF-16 is refused with a clear error", "[fountain][encoding]") {
  const std::string utf16("\xFF\xFEI\0N\0T\0", 8);
  auto doc = parse_fountain(utf16);
  REQUIRE_FALSE(doc.has_value());
  CHECK(doc.error().is(reelfarm::screenplay_errc::encoding));
  CHECK_THAT(doc.error().message(), Catch::Contains("UTF-8"));
}

TEST_CASE("limits: inputs over the size limit are refused", "[fountain][limits]") {
  parse_options small;
  small.max_bytes = 10;
  auto doc = parse_fountain("INT. HOUSE - DAY\n", small);
  REQUIRE_FALSE(doc.has_value());
  CHECK(doc.error().is(reelfarm::screenplay_errc::too_large));
  CHECK_THAT(doc.error().message(), Catch::Contains("limit of 10 bytes"));
}

TEST_CASE("empty and blank inputs parse to an empty document", "[fountain][limits]") {
  CHECK(parse("").elements.empty());
  CHECK(parse("\n\n   \n\t\n").elements.empty());
  CHECK(parse("").line_count == 0);
  CHECK(parse("a\nb\n").line_count == 2);
  CHECK(parse("a\nb").line_count == 2);
}

TEST_CASE("pathological inputs stay linear", "[fountain][limits]") {
  // Many unclosed openers: each must not rescan the rest of the input.
  std::string openers;
  for (int i = 0; i < 200000; ++i) {
    openers += "[[/*";
  }
  auto doc = parse(openers);
  REQUIRE(doc.elements.size() == 1);
  CHECK(doc.elements[0].text.size() == openers.size());
  std::string stars(500000, '*');
  CHECK(parse(stars).elements.size() == 1);
}
