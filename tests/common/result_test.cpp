#include "reelfarm/common/result.hpp"

#include <catch2/catch.hpp>

#include "reelfarm/common/errc.hpp"

using namespace reelfarm;

TEST_CASE("result holds a value or an error", "[result]") {
  result<int> good = 42;
  REQUIRE(good.has_value());
  CHECK(*good == 42);

  result<int> bad = error(common_errc::timeout, "took too long");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().is(common_errc::timeout));
  CHECK_FALSE(bad.error().is(common_errc::io));
  CHECK(bad.error().category() == "common");
  CHECK(bad.error().code_name() == "timeout");
  CHECK(bad.error().full_text() == "common.timeout: took too long");
}

TEST_CASE("result<void> is ok or an error", "[result]") {
  CHECK(ok().has_value());
  result<void> bad = error(common_errc::io, "disk full");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message() == "disk full");
}
