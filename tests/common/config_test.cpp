#include "reelfarm/common/config.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "reelfarm/common/errc.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace std::chrono_literals;

namespace {

std::string write_yaml(const testing::temp_dir& dir, const std::string& text) {
  auto path = (dir.path() / "reelfarm.yaml").string();
  std::ofstream(path) << text;
  return path;
}

result<config> load_text(const testing::temp_dir& dir, const std::string& yaml) {
  config_sources sources;
  sources.file = write_yaml(dir, yaml);
  return load_config(sources);
}

}  // namespace

TEST_CASE("defaults apply when nothing is configured", "[config]") {
  auto cfg = load_config({});
  REQUIRE(cfg);
  CHECK(cfg->gateway.port == 8080);
  CHECK(cfg->log.level == "info");
  CHECK(cfg->postgres.dsn.empty());
  CHECK(cfg->embedded.start_timeout == 60s);
}

TEST_CASE("a YAML file sets values of every type", "[config]") {
  testing::temp_dir dir;
  auto cfg = load_text(dir,
                       "log:\n  level: debug\n  format: json\n"
                       "gateway:\n  port: 9090\n"
                       "embedded:\n  start_timeout: 90s\n  data_dir: /srv/reelfarm\n"
                       "postgres:\n  pool_size: 16\n");
  REQUIRE(cfg);
  CHECK(cfg->log.level == "debug");
  CHECK(cfg->log.format == "json");
  CHECK(cfg->gateway.port == 9090);
  CHECK(cfg->embedded.start_timeout == 90s);
  CHECK(cfg->embedded.data_dir == "/srv/reelfarm");
  CHECK(cfg->postgres.pool_size == 16);
}

TEST_CASE("an empty file keeps the defaults", "[config]") {
  testing::temp_dir dir;
  auto cfg = load_text(dir, "");
  REQUIRE(cfg);
  CHECK(cfg->gateway.port == 8080);
}

TEST_CASE("bad configuration is an error naming file, line, key and expectation", "[config]") {
  testing::temp_dir dir;
  SECTION("unknown key") {
    auto cfg = load_text(dir, "gateway:\n  prot: 80\n");
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().is(common_errc::config_unknown_key));
    CHECK_THAT(cfg.error().message(), Catch::Contains("reelfarm.yaml:2:3") &&
                                          Catch::Contains("gateway.prot") &&
                                          Catch::Contains("port"));
  }
  SECTION("unknown section") {
    auto cfg = load_text(dir, "gatway:\n  port: 80\n");
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().is(common_errc::config_unknown_key));
    CHECK_THAT(cfg.error().message(), Catch::Contains("gatway") && Catch::Contains(":1:1"));
  }
  SECTION("wrong type") {
    auto cfg = load_text(dir, "gateway:\n  port: eighty\n");
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().is(common_errc::config_type));
    CHECK_THAT(cfg.error().message(), Catch::Contains(":2:9") &&
                                          Catch::Contains("an integer from 0 to 65535") &&
                                          Catch::Contains("eighty"));
  }
  SECTION("out of range") {
    auto cfg = load_text(dir, "gateway:\n  port: 70000\n");
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().is(common_errc::config_range));
  }
  SECTION("not in the allowed set") {
    auto cfg = load_text(dir, "log:\n  level: loud\n");
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().is(common_errc::config_range));
    CHECK_THAT(cfg.error().message(), Catch::Contains("debug, info, warn, error"));
  }
  SECTION("a collection where a value belongs") {
    auto cfg = load_text(dir, "gateway:\n  port: [1, 2]\n");
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().is(common_errc::config_type));
  }
  SECTION("a key without a value") {
    auto cfg = load_text(dir, "gateway:\n  port:\n");
    REQUIRE_FALSE(cfg);
    CHECK_THAT(cfg.error().message(), Catch::Contains("got nothing"));
  }
  SECTION("a key given twice") {
    auto cfg = load_text(dir, "gateway:\n  port: 1\n  port: 2\n");
    REQUIRE_FALSE(cfg);
    CHECK_THAT(cfg.error().message(), Catch::Contains("appears twice"));
  }
  SECTION("broken YAML") {
    auto cfg = load_text(dir, "gateway:\n  port: [1, 2\nlog: {\n");
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().is(common_errc::config_file));
    CHECK_THAT(cfg.error().message(), Catch::Contains("not valid YAML"));
  }
  SECTION("a list at the top") {
    auto cfg = load_text(dir, "- a\n- b\n");
    REQUIRE_FALSE(cfg);
    CHECK(cfg.error().is(common_errc::config_type));
  }
  SECTION("a section that is not a mapping") {
    auto cfg = load_text(dir, "gateway: 8080\n");
    REQUIRE_FALSE(cfg);
    CHECK_THAT(cfg.error().message(), Catch::Contains("must be a mapping"));
  }
  SECTION("a bad duration") {
    auto cfg = load_text(dir, "embedded:\n  start_timeout: 10\n");
    REQUIRE_FALSE(cfg);
    CHECK_THAT(cfg.error().message(), Catch::Contains("like 500ms, 5s, 2m"));
  }
}

TEST_CASE("a missing file is an error, not the defaults", "[config]") {
  config_sources sources;
  sources.file = "/nonexistent/reelfarm.yaml";
  auto cfg = load_config(sources);
  REQUIRE_FALSE(cfg);
  CHECK_THAT(cfg.error().message(), Catch::Contains("/nonexistent/reelfarm.yaml"));
}

TEST_CASE("environment overrides the file, flags override the environment", "[config]") {
  testing::temp_dir dir;
  config_sources sources;
  sources.file = write_yaml(dir, "gateway:\n  port: 9000\n  host: 0.0.0.0\n");
  sources.environment = {"PATH=/bin", "REELFARM_GATEWAY_PORT=9100",
                         "REELFARM_EMBEDDED_DATA_DIR=/data", "REELFARM_CONFIG=ignored.yaml",
                         // the API client's own variables are no configuration keys
                         "REELFARM_API=http://x", "REELFARM_CREDENTIALS=/tmp/c",
                         "REELFARM_PASSWORD=secret"};
  auto cfg = load_config(sources);
  REQUIRE(cfg);
  CHECK(cfg->gateway.port == 9100);
  CHECK(cfg->gateway.host == "0.0.0.0");
  CHECK(cfg->embedded.data_dir == "/data");

  sources.overrides = {"gateway.port=9200"};
  cfg = load_config(sources);
  REQUIRE(cfg);
  CHECK(cfg->gateway.port == 9200);
}

TEST_CASE("bad environment variables and flags are named in the error", "[config]") {
  config_sources sources;
  sources.environment = {"REELFARM_GATEWAY_PORT=abc"};
  auto cfg = load_config(sources);
  REQUIRE_FALSE(cfg);
  CHECK_THAT(cfg.error().message(), Catch::Contains("environment variable REELFARM_GATEWAY_PORT"));

  sources.environment = {"REELFARM_GATEWAY_PROT=1"};
  cfg = load_config(sources);
  REQUIRE_FALSE(cfg);
  CHECK(cfg.error().is(common_errc::config_unknown_key));

  sources.environment = {};
  sources.overrides = {"gateway.port"};
  cfg = load_config(sources);
  REQUIRE_FALSE(cfg);
  CHECK_THAT(cfg.error().message(), Catch::Contains("section.key=value"));

  sources.overrides = {"nope.key=1"};
  cfg = load_config(sources);
  REQUIRE_FALSE(cfg);
  CHECK(cfg.error().is(common_errc::config_unknown_key));
}

TEST_CASE("durations parse and print in their largest exact unit", "[config]") {
  CHECK(*parse_duration("250ms") == 250ms);
  CHECK(*parse_duration("5s") == 5s);
  CHECK(*parse_duration("2m") == 2min);
  CHECK(*parse_duration("1h") == 1h);
  CHECK_FALSE(parse_duration("5"));
  CHECK_FALSE(parse_duration("-5s"));
  CHECK_FALSE(parse_duration("5 s"));
  CHECK_FALSE(parse_duration("99999999999999999h"));
  CHECK(format_duration(1500ms) == "1500ms");
  CHECK(format_duration(5000ms) == "5s");
  CHECK(format_duration(120000ms) == "2m");
}

TEST_CASE("secrets are redacted when the configuration is described", "[config]") {
  config cfg;
  cfg.postgres.dsn = "host=db password=hunter2 dbname=x";
  cfg.redis.url = "redis://:s3cret@cache:6379/0";
  auto text = describe(cfg);
  CHECK_THAT(text, !Catch::Contains("hunter2") && !Catch::Contains("s3cret"));
  CHECK_THAT(text, Catch::Contains("gateway.port = 8080"));
}

TEST_CASE("config/reelfarm.yaml documents every key and loads as the defaults", "[config]") {
  std::string path = REELFARM_SOURCE_DIR "/config/reelfarm.yaml";
  std::ifstream in(path);
  REQUIRE(in);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& key : config_keys()) {
    INFO(key.section << "." << key.key);
    CHECK_THAT(text, Catch::Contains("\n  " + std::string(key.key) + ":"));
    CHECK_THAT(text, Catch::Contains(environment_name(key.section, key.key)));
  }
  config_sources sources;
  sources.file = path;
  auto cfg = load_config(sources);
  REQUIRE(cfg);
  CHECK(describe(*cfg) == describe(config{}));
}
