#include <catch2/catch.hpp>

#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/redis_client.hpp"
#include "reelfarm/testing/services.hpp"

using namespace reelfarm;
using namespace std::chrono_literals;

TEST_CASE("commands round-trip through the test Redis", "[redis]") {
  auto client = redis_client::connect(testing::test_services().redis_url, 2s);
  REQUIRE(client);
  CHECK(*client->command({"PING"}) == "PONG");
  REQUIRE(client->command({"SET", "test:key", std::string("bin\0ary", 7)}));
  CHECK(*client->command({"GET", "test:key"}) == std::string("bin\0ary", 7));
  CHECK(*client->command({"INCR", "test:counter:" + std::to_string(::getpid())}) == "1");
  CHECK(client->command({"GET", "test:missing"})->empty());
  auto bad = client->command({"NOSUCHCOMMAND"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().is(store_errc::redis));
  CHECK_FALSE(client->server_info("redis_version")->empty());
}

TEST_CASE("a wrong password is refused with a clear error", "[redis]") {
  auto url = *parse_redis_url(testing::test_services().redis_url);
  auto client =
      redis_client::connect("redis://:wrong@127.0.0.1:" + std::to_string(url.port) + "/0", 2s);
  REQUIRE_FALSE(client);
  CHECK(client.error().is(store_errc::connection));
  CHECK_THAT(client.error().message(), Catch::Contains("refused the credentials"));
  CHECK_THAT(client.error().message(), !Catch::Contains("wrong"));
}

TEST_CASE("an unreachable Redis is a connection error", "[redis]") {
  auto client = redis_client::connect("redis://127.0.0.1:1/0", 500ms);
  REQUIRE_FALSE(client);
  CHECK(client.error().is(store_errc::connection));
  CHECK_THAT(client.error().message(), Catch::Contains("127.0.0.1:1"));
}
