#include <catch2/catch.hpp>

#include "reelfarm/screenplay/cost.hpp"
#include "reelfarm/screenplay/errc.hpp"

using namespace reelfarm::screenplay;
using namespace std::chrono_literals;

TEST_CASE("cost: 3 credits per started minute", "[cost]") {
  CHECK(cost_credits(0s) == 0);
  CHECK(cost_credits(1ms) == 3);
  CHECK(cost_credits(30s) == 3);
  CHECK(cost_credits(60s) == 3);
  CHECK(cost_credits(60001ms) == 6);
  CHECK(cost_credits(61s) == 6);
  CHECK(cost_credits(150s) == 9);
  CHECK(cost_credits(5min) == 15);
  CHECK(cost_credits(-5s) == 0);
}

TEST_CASE("cost: the plan's maximum length", "[cost]") {
  CHECK(check_max_length(60s, 1min).has_value());
  CHECK(check_max_length(0s, 1min).has_value());
  const auto too_long = check_max_length(61s, 1min);
  REQUIRE_FALSE(too_long.has_value());
  CHECK(too_long.error().is(reelfarm::screenplay_errc::too_long));
  CHECK_THAT(too_long.error().message(), Catch::Contains("1:01") && Catch::Contains("1:00"));
}

TEST_CASE("cost: durations print as minutes and seconds", "[cost]") {
  CHECK(format_minutes_seconds(0s) == "0:00");
  CHECK(format_minutes_seconds(65s) == "1:05");
  CHECK(format_minutes_seconds(64100ms) == "1:05");
  CHECK(format_minutes_seconds(3723s) == "1:02:03");
}
