#include <catch2/catch.hpp>

#include <fstream>

#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/plan_catalog.hpp"

using namespace reelfarm;

namespace {

std::string source_dir() {
  return REELFARM_SOURCE_DIR;
}

}  // namespace

TEST_CASE("the shipped plans file matches the product brief", "[plans]") {
  auto loaded = plan_catalog::load_file(source_dir() + "/config/plans.yaml");
  REQUIRE(loaded);
  auto defaults = plan_catalog::defaults();
  REQUIRE(loaded->plans().size() == defaults.plans().size());
  for (std::size_t i = 0; i < defaults.plans().size(); ++i) {
    const auto& a = loaded->plans()[i];
    const auto& b = defaults.plans()[i];
    CHECK(a.name == b.name);
    CHECK(a.display_name == b.display_name);
    CHECK(a.price_cents == b.price_cents);
    CHECK(a.monthly_credits == b.monthly_credits);
    CHECK(a.max_video == b.max_video);
    CHECK(a.watermark == b.watermark);
    CHECK(a.priority == b.priority);
  }
  CHECK(loaded->default_plan().name == "free");
  CHECK(loaded->find("enterprise")->unlimited());
  CHECK(loaded->find("pro")->price_cents == 2999);
  CHECK(loaded->find("free")->monthly_credits == 3);
}

TEST_CASE("plan errors name the file, the line and the key", "[plans]") {
  auto bad = [](const std::string& yaml) {
    auto r = plan_catalog::parse(yaml, "plans.yaml");
    REQUIRE_FALSE(r);
    CHECK(r.error().is(store_errc::plan_file));
    return r.error().message();
  };
  CHECK_THAT(bad("plans:\n  free:\n    price_usd: 0\n    monthly_credits: 3\n    colour: red\n"),
             Catch::Contains("plans.yaml:5:5") && Catch::Contains("plans.free.colour"));
  CHECK_THAT(bad("plans:\n  free:\n    price_usd: 1.999\n    monthly_credits: 3\n"),
             Catch::Contains("plans.yaml:3:16") && Catch::Contains("price_usd"));
  CHECK_THAT(bad("plans:\n  free:\n    price_usd: 0\n    monthly_credits: -3\n"),
             Catch::Contains("plans.yaml:4") && Catch::Contains("monthly_credits"));
  CHECK_THAT(bad("plans:\n  free:\n    price_usd: 0\n"), Catch::Contains("monthly_credits"));
  CHECK_THAT(
      bad("plans:\n  free:\n    price_usd: 0\n    monthly_credits: 3\n    watermark: maybe\n"),
      Catch::Contains("true or false"));
  CHECK_THAT(bad("default_plan: gold\nplans:\n  free:\n    price_usd: 0\n    monthly_credits: 3\n"),
             Catch::Contains("plans.yaml:1") && Catch::Contains("'gold'"));
  CHECK_THAT(bad("plans: [1, 2]\n"), Catch::Contains("non-empty mapping"));
  CHECK_THAT(bad("plans:\n  Free:\n    price_usd: 0\n    monthly_credits: 3\n"),
             Catch::Contains("lower-case"));
  CHECK_THAT(bad("plans: {free: {price_usd: 0, monthly_credits: 3}}\nextra: 1\n"),
             Catch::Contains("unknown key 'extra'"));
  CHECK_THAT(bad("plans:\n  free: [\n"), Catch::Contains("not valid YAML"));
}

TEST_CASE("a missing plans file is a clear error", "[plans]") {
  auto r = plan_catalog::load_file("/nonexistent/plans.yaml");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message(), Catch::Contains("/nonexistent/plans.yaml"));
}

TEST_CASE("prices are exact and unlimited is spelled out", "[plans]") {
  auto r = plan_catalog::parse(
      "default_plan: a\nplans:\n  a:\n    price_usd: 9.9\n    monthly_credits: unlimited\n"
      "  b:\n    price_usd: 12\n    monthly_credits: 0\n    max_video_minutes: 2\n",
      "x");
  REQUIRE(r);
  CHECK(r->find("a")->price_cents == 990);
  CHECK(r->find("a")->unlimited());
  CHECK(r->find("b")->price_cents == 1200);
  CHECK(r->find("b")->max_video == std::chrono::minutes(2));
  CHECK_FALSE(r->get("c"));
  CHECK_THAT(r->get("c").error().message(), Catch::Contains("a, b"));
}

TEST_CASE("credits are 3 per started minute of video", "[plans]") {
  using std::chrono::seconds;
  CHECK(credits_for_duration(seconds(30)) == 3);
  CHECK(credits_for_duration(seconds(60)) == 3);
  CHECK(credits_for_duration(seconds(61)) == 6);
  CHECK(credits_for_duration(seconds(150)) == 9);
  CHECK(credits_for_duration(seconds(300)) == 15);
  CHECK(credits_for_duration(seconds(0)) == 0);
}
