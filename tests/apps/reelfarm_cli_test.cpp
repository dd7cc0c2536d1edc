#include <catch2/catch.hpp>
#include <fstream>

#include "run_reelfarm.hpp"

using namespace reelfarm::testing;

TEST_CASE("the version flag names the program and its libraries", "[cli]") {
  auto run = run_reelfarm({"--version"});
  CHECK(run.status == 0);
  for (const auto* lib : {"reelfarm 0.", "CAF", "0.17.6", "libpqxx", "hiredis", "ZeroMQ",
                          "yaml-cpp", "libcurl", "FFmpeg", "prometheus-cpp", "libsodium"}) {
    CHECK_THAT(run.output, Catch::Contains(lib));
  }
}

TEST_CASE("an unknown subcommand prints usage and exits 2", "[cli]") {
  auto run = run_reelfarm({"frobnicate"});
  CHECK(run.status == 2);
  CHECK_THAT(run.output,
             Catch::Contains("unknown command 'frobnicate'") && Catch::Contains("usage: reelfarm"));
  CHECK(run_reelfarm({}).status == 2);
  CHECK(run_reelfarm({"--no-such-flag"}).status == 2);
  CHECK(run_reelfarm({"serve", "--config"}).status == 2);
}

TEST_CASE("broken configuration stops serve with a clear error", "[cli]") {
  temp_dir dir;
  auto file = (dir.path() / "broken.yaml").string();
  SECTION("bad YAML") {
    std::ofstream(file) << "gateway:\n  port: [8080\n";
    auto run = run_reelfarm({"serve", "--config", file});
    CHECK(run.status == 2);
    CHECK_THAT(run.output, Catch::Contains("configuration error") && Catch::Contains(file) &&
                               Catch::Contains("not valid YAML"));
  }
  SECTION("unknown key") {
    std::ofstream(file) << "gateway:\n  prot: 8080\n";
    auto run = run_reelfarm({"serve", "--config", file});
    CHECK(run.status == 2);
    CHECK_THAT(run.output, Catch::Contains(file + ":2:3") && Catch::Contains("gateway.prot"));
  }
  SECTION("wrong type from a flag") {
    auto run = run_reelfarm({"--set", "gateway.port=http", "serve"});
    CHECK(run.status == 2);
    CHECK_THAT(run.output, Catch::Contains("flag --set gateway.port"));
  }
}

TEST_CASE("config keys and show describe the configuration", "[cli]") {
  auto keys = run_reelfarm({"config", "keys"});
  CHECK(keys.status == 0);
  CHECK_THAT(keys.output, Catch::Contains("REELFARM_GATEWAY_PORT"));
  auto show = run_reelfarm({"--set", "postgres.dsn=host=db password=hunter2", "config", "show"});
  CHECK(show.status == 0);
  CHECK_THAT(show.output, Catch::Contains("postgres.dsn = host=db password=[redacted]"));
  CHECK_THAT(show.output, !Catch::Contains("hunter2"));
  auto shipped =
      run_reelfarm({"--config", REELFARM_SOURCE_DIR "/config/reelfarm.yaml", "config", "check"});
  CHECK(shipped.status == 0);
}
