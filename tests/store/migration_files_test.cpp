#include <catch2/catch.hpp>

#include "reelfarm/store/migrations.hpp"

using namespace reelfarm;

TEST_CASE("the bundled migrations are well formed", "[migrations]") {
  const auto& all = bundled_migrations();
  REQUIRE_FALSE(all.empty());
  CHECK(all.front().version == 1);
  for (size_t i = 0; i < all.size(); ++i) {
    INFO(all[i].name);
    CHECK(all[i].version == static_cast<int>(i) + 1);  // no gaps: each issue adds the next
    CHECK(all[i].checksum.size() == 64);
    CHECK_FALSE(all[i].sql.empty());
  }
}

TEST_CASE("migration file names are checked", "[migrations]") {
  CHECK(make_migrations({{"0001_a.sql", "SELECT 1"}, {"0002_b.sql", "SELECT 2"}}));
  CHECK_FALSE(make_migrations({{"1_a.sql", "SELECT 1"}}));
  CHECK_FALSE(make_migrations({{"0001_a.txt", "SELECT 1"}}));
  CHECK_FALSE(make_migrations({{"0000_zero.sql", "SELECT 1"}}));
  auto twice = make_migrations({{"0001_a.sql", "SELECT 1"}, {"0001_b.sql", "SELECT 2"}});
  REQUIRE_FALSE(twice);
  CHECK_THAT(twice.error().message(), Catch::Contains("share a version"));
  auto sorted = make_migrations({{"0002_b.sql", "x"}, {"0001_a.sql", "y"}});
  REQUIRE(sorted);
  CHECK(sorted->front().name == "0001_a");
}
