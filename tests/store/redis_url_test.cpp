#include <catch2/catch.hpp>

#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/postgres.hpp"
#include "reelfarm/store/redis_client.hpp"

using namespace reelfarm;

TEST_CASE("Redis URLs parse into their parts", "[redis]") {
  auto full = parse_redis_url("redis://user:pw@cache.internal:6380/3");
  REQUIRE(full);
  CHECK(full->host == "cache.internal");
  CHECK(full->port == 6380);
  CHECK(full->user == "user");
  CHECK(full->password == "pw");
  CHECK(full->database == 3);

  auto password_only = parse_redis_url("redis://:s3cret@127.0.0.1:1234");
  REQUIRE(password_only);
  CHECK(password_only->user.empty());
  CHECK(password_only->password == "s3cret");
  CHECK(password_only->database == 0);

  auto bare = parse_redis_url("redis://");
  REQUIRE(bare);
  CHECK(bare->host == "127.0.0.1");
  CHECK(bare->port == 6379);
}

TEST_CASE("bad Redis URLs are errors saying what is wrong", "[redis]") {
  for (const auto* url : {"http://x", "redis://h:port", "redis://h:99999", "redis://h:1/db"}) {
    INFO(url);
    auto r = parse_redis_url(url);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(store_errc::invalid_url));
  }
}

TEST_CASE("a connect timeout is added to DSNs that lack one", "[postgres]") {
  using namespace std::chrono_literals;
  CHECK(with_connect_timeout("host=h dbname=x", 5s) == "host=h dbname=x connect_timeout=5");
  CHECK(with_connect_timeout("postgresql://h/db", 1500ms) == "postgresql://h/db?connect_timeout=2");
  CHECK(with_connect_timeout("postgresql://h/db?sslmode=require", 10s) ==
        "postgresql://h/db?sslmode=require&connect_timeout=10");
  CHECK(with_connect_timeout("host=h connect_timeout=1", 5s) == "host=h connect_timeout=1");
}
