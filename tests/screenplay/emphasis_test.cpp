#include <catch2/catch.hpp>

#include "reelfarm/screenplay/emphasis.hpp"

using namespace reelfarm::screenplay;

TEST_CASE("emphasis: italic, bold, bold italic, underline", "[emphasis]") {
  CHECK(strip_emphasis("*italics*") == "italics");
  CHECK(strip_emphasis("**bold**") == "bold");
  CHECK(strip_emphasis("***bold italics***") == "bold italics");
  CHECK(strip_emphasis("_underline_") == "underline");
  CHECK(strip_emphasis("From what seems like _**very far away**_ we hear") ==
        "From what seems like very far away we hear");
}

TEST_CASE("emphasis: runs carry their styles", "[emphasis]") {
  const auto runs = parse_emphasis("a *b* **c** _d_ ***e***");
  REQUIRE(runs.size() == 8);
  CHECK(runs[0].text == "a ");
  CHECK((runs[1].text == "b" && runs[1].italic && !runs[1].bold));
  CHECK((runs[3].text == "c" && runs[3].bold && !runs[3].italic));
  CHECK((runs[5].text == "d" && runs[5].underline));
  CHECK((runs[7].text == "e" && runs[7].bold && runs[7].italic));
}

TEST_CASE("emphasis: nested styles", "[emphasis]") {
  const auto runs = parse_emphasis("_**both**_");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].text == "both");
  CHECK(runs[0].bold);
  CHECK(runs[0].underline);
}

TEST_CASE("emphasis: escapes and unmatched markers stay literal", "[emphasis]") {
  CHECK(strip_emphasis("Steel enters the code: \\*9765\\*") == "Steel enters the code: *9765*");
  CHECK(strip_emphasis("2 * 3 = 6") == "2 * 3 = 6");
  CHECK(strip_emphasis("*not closed") == "*not closed");
  CHECK(strip_emphasis("snake_case_name") == "snakecasename");
  CHECK(strip_emphasis("a_b c") == "a_b c");
  CHECK(strip_emphasis("\\_x\\_") == "_x_");
  CHECK(strip_emphasis("path\\to") == "path\\to");
}

TEST_CASE("emphasis: never spans a line break", "[emphasis]") {
  CHECK(strip_emphasis("*one\ntwo*") == "*one\ntwo*");
  CHECK(strip_emphasis("*one*\n*two*") == "one\ntwo");
}
