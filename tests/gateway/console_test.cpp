// The web console's files and the plan preview route.
#include <catch2/catch.hpp>

#include "gateway_fixture.hpp"

using namespace reelfarm::testing;
using json = nlohmann::json;

namespace {

const char* short_script = R"(Title: The Keeper

INT. LIGHTHOUSE - NIGHT

MARA climbs the stairs with a lantern.

MARA
Someone has to keep the light.

EXT. CLIFF - DAWN

TOM waves from the rocks below.

TOM
You kept it!
)";

}  // namespace

TEST_CASE("the console is served at / and /console/* with a strict policy", "[gateway][console]") {
  gateway_env env;
  auto index = env.get("/");
  REQUIRE(index.status == 200);
  CHECK(index.headers["content-type"] == "text/html; charset=utf-8");
  CHECK(index.body.find("/console/app.js") != std::string::npos);
  auto csp = index.headers["content-security-policy"];
  CHECK(csp.find("default-src 'self'") != std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(index.headers["x-content-type-options"] == "nosniff");
  CHECK(index.headers["referrer-policy"] == "no-referrer");

  CHECK(env.get("/console/").body == index.body);
  auto js = env.get("/console/app.js");
  CHECK(js.status == 200);
  CHECK(js.headers["content-type"] == "text/javascript; charset=utf-8");
  CHECK(env.get("/console/style.css").headers["content-type"] == "text/css; charset=utf-8");
  CHECK(env.get("/console/favicon.svg").headers["content-type"] == "image/svg+xml");
  auto config = env.get("/console/config.json");
  CHECK(config.status == 200);
  CHECK(config.json()["grafana_url"].is_null());

  CHECK(env.get("/console/nothing.js").status == 404);
  CHECK(env.get("/console/../openapi.json").status == 404);
  CHECK(env.get("/console/README.md").status == 404);
  // The API is untouched.
  CHECK(env.get("/api/v1/healthz").status == 200);
  CHECK(env.get("/elsewhere").status == 404);
}

TEST_CASE("the Grafana link comes from the options", "[gateway][console]") {
  auto options = test_gateway_options();
  options.grafana_url = "https://grafana.example.com/d/reelfarm";
  gateway_env env(options);
  CHECK(env.get("/console/config.json").json()["grafana_url"] ==
        "https://grafana.example.com/d/reelfarm");
}

TEST_CASE("POST /plan previews scenes, shots, characters, length and price", "[gateway][plan]") {
  gateway_env env;
  auto user = env.sign_up("planner");
  auto r = env.send("POST", "/api/v1/plan", {{"script", short_script}}, {user.auth()});
  REQUIRE(r.status == 200);
  auto plan = r.json();
  CHECK(plan["title"] == "The Keeper");
  REQUIRE(plan["scenes"].size() == 2);
  CHECK(plan["scenes"][0]["heading"] == "INT. LIGHTHOUSE - NIGHT");
  CHECK(plan["scenes"][0]["characters"][0] == "MARA");
  CHECK(plan["shots"].get<int>() >= 4);
  CHECK(plan["characters"].size() == 2);
  CHECK(plan["locations"] == 2);
  CHECK(plan["duration_seconds"].get<double>() > 0);
  CHECK(plan["cost_credits"] == 3);
  CHECK(plan["plan"] == "free");
  CHECK(plan["fits_plan"] == true);
  CHECK(plan["affordable"] == true);
  CHECK(plan["price"]["animatic"]["credits"] == 3);
  CHECK(plan["price"]["generations"]["credits"] == 0);

  // On a paid provider every shot is one generation (5 credits from its
  // text, 8 from a character's reference image): a Free balance no longer
  // covers it, and the preview says so before anything is charged.
  auto provider =
      env.send("POST", "/api/v1/plan",
               {{"script", short_script}, {"settings", {{"backend", "replicate"}}}}, {user.auth()});
  REQUIRE(provider.status == 200);
  auto priced = provider.json();
  const auto shots = priced["shots"].get<std::int64_t>();
  CHECK(priced["price"]["generations"]["t2v"]["shots"] == shots);
  CHECK(priced["price"]["animatic"]["credits"] == 0);
  CHECK(priced["cost_credits"] == 5 * shots);
  CHECK(priced["affordable"] == false);

  // Nothing to film, bad settings, no token, a missing field.
  auto empty = env.send("POST", "/api/v1/plan", {{"script", "   \n"}}, {user.auth()});
  CHECK(empty.status == 422);
  CHECK(empty.error_code() == "invalid_screenplay");
  auto settings =
      env.send("POST", "/api/v1/plan",
               {{"script", short_script}, {"settings", {{"resolution", "huge"}}}}, {user.auth()});
  CHECK(settings.status == 422);
  CHECK(settings.error_code() == "invalid_settings");
  CHECK(env.send("POST", "/api/v1/plan", {{"script", short_script}}).status == 401);
  CHECK(env.send("POST", "/api/v1/plan", json::object(), {user.auth()}).status == 422);
}
