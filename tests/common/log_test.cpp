#include "reelfarm/common/log.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <vector>

using namespace reelfarm;

namespace {

// Captures lines for the duration of a test and restores stderr after.
struct captured_log {
  std::vector<std::string> lines;
  captured_log(log::level minimum = log::level::debug, log::format fmt = log::format::kv) {
    log::configure(minimum, fmt);
    log::set_sink([this](std::string_view line) { lines.emplace_back(line); });
  }
  ~captured_log() {
    log::set_sink({});
    log::configure(log::level::info, log::format::kv);
  }
};

}  // namespace

TEST_CASE("an event is one key=value line", "[log]") {
  captured_log log;
  log::info("store", "server ready", {{"port", 5432}, {"name", "main db"}, {"ok", true}});
  REQUIRE(log.lines.size() == 1);
  const auto& line = log.lines[0];
  CHECK_THAT(line, Catch::Contains(" level=info component=store msg=\"server ready\" port=5432 "
                                   "name=\"main db\" ok=true\n"));
  CHECK(line.find('\n') == line.size() - 1);
}

TEST_CASE("values cannot forge a second line", "[log]") {
  captured_log log;
  log::warn("gateway", "bad input", {{"path", "/x\nlevel=error msg=forged"}});
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0].find('\n') == log.lines[0].size() - 1);
  CHECK_THAT(log.lines[0], Catch::Contains("\\n"));
}

TEST_CASE("json lines parse and carry every field", "[log]") {
  captured_log log(log::level::debug, log::format::json);
  log::error("farm", "node \"lost\"", {{"node", "n1"}, {"age_ms", 5100}});
  REQUIRE(log.lines.size() == 1);
  auto event = nlohmann::json::parse(log.lines[0]);
  CHECK(event["level"] == "error");
  CHECK(event["component"] == "farm");
  CHECK(event["msg"] == "node \"lost\"");
  CHECK(event["age_ms"] == "5100");
}

TEST_CASE("events below the level are dropped", "[log]") {
  captured_log log(log::level::warn);
  log::debug("x", "d");
  log::info("x", "i");
  log::warn("x", "w");
  CHECK(log.lines.size() == 1);
}

TEST_CASE("secrets never reach a line", "[log]") {
  captured_log log;
  log::info("auth", "login", {{"password", log::secret{"hunter2"}}});
  REQUIRE(log.lines.size() == 1);
  CHECK_THAT(log.lines[0], !Catch::Contains("hunter2") && Catch::Contains("[redacted]"));
}

TEST_CASE("DSNs and URLs are redacted", "[log]") {
  CHECK(log::redact_dsn("host=h port=1 password=hunter2 dbname=x") ==
        "host=h port=1 password=[redacted] dbname=x");
  CHECK(log::redact_dsn("host=h password = 'a b\\' c' user=u") ==
        "host=h password = [redacted] user=u");
  CHECK(log::redact_dsn("postgresql://u:hunter2@h:5432/db") ==
        "postgresql://u:[redacted]@h:5432/db");
  CHECK(log::redact_dsn("redis://:s3cret@127.0.0.1:6379/0") ==
        "redis://:[redacted]@127.0.0.1:6379/0");
  CHECK(log::redact_dsn("postgresql://h/db?password=x&sslmode=require") ==
        "postgresql://h/db?password=[redacted]&sslmode=require");
  CHECK(log::redact_dsn("host=h dbname=x") == "host=h dbname=x");
}

TEST_CASE("levels and formats parse strictly", "[log]") {
  CHECK(*log::parse_level("warn") == log::level::warn);
  CHECK_FALSE(log::parse_level("WARN"));
  CHECK(*log::parse_format("json") == log::format::json);
  CHECK_FALSE(log::parse_format("xml"));
}
