#include "reelfarm/common/json_depth.hpp"

#include <catch2/catch.hpp>
#include <string>

using reelfarm::json_nesting_within;

TEST_CASE("JSON nesting is measured without parsing", "[json]") {
  CHECK(json_nesting_within(R"({"a":[1,{"b":2}]})", 3));
  CHECK_FALSE(json_nesting_within(R"({"a":[1,{"b":2}]})", 2));
  CHECK(json_nesting_within("", 0));
  CHECK_FALSE(json_nesting_within(std::string(60000, '['), 64));
}

TEST_CASE("brackets inside strings do not count", "[json]") {
  CHECK(json_nesting_within(R"({"a":"[[[[[[[[[[[[[[[[[[[["})", 1));
  CHECK(json_nesting_within(R"({"a":"\"[[[[[[[[[[[[["})", 1));
  CHECK_FALSE(json_nesting_within(R"({"a":"\\",[[[1]]]})", 3));
}
