#include "reelfarm/store/embedded_services.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <pqxx/pqxx>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/redis_client.hpp"
#include "reelfarm/testing/services.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace std::chrono_literals;

namespace {

void write_marker(const std::string& dsn, const std::string& redis_url) {
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  tx.exec0("CREATE TABLE IF NOT EXISTS marker (v text)");
  tx.exec0("INSERT INTO marker VALUES ('kept')");
  tx.commit();
  auto redis = redis_client::connect(redis_url, 2s);
  REQUIRE(redis);
  REQUIRE(redis->command({"SET", "marker", "kept"}));
}

int count_markers(const std::string& dsn) {
  pqxx::connection conn(dsn);
  pqxx::read_transaction tx(conn);
  return tx.exec1("SELECT count(*) FROM marker")[0].as<int>();
}

// A listening socket on 127.0.0.1:port, closed when the result goes.
std::unique_ptr<int, void (*)(int*)> listen_on_loopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  int reuse = 1;  // the server's old connections may linger in TIME_WAIT
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  INFO("port " << port << ": " << strerror(errno));
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd, 4) == 0);
  return {new int(fd), [](int* f) {
            close(*f);
            delete f;
          }};
}

}  // namespace

TEST_CASE("embedded servers start, answer, and keep their data across restarts", "[embedded]") {
  testing::temp_dir dir;
  auto options = testing::test_embedded_options(dir.path());
  options.durable = true;  // the Redis append-only file is what keeps its data
  {
    auto services = embedded_services::start(options);
    REQUIRE(services);
    CHECK((*services)->postgres().initialized);
    CHECK_THAT((*services)->postgres().version, Catch::StartsWith("15."));
    CHECK_FALSE((*services)->redis().version.empty());
    write_marker((*services)->postgres().address, (*services)->redis().address);
    REQUIRE((*services)->stop());
    CHECK_FALSE(process_exists((*services)->postgres().pid));
    CHECK_FALSE(process_exists((*services)->redis().pid));
  }
  auto again = embedded_services::start(options);
  REQUIRE(again);
  CHECK_FALSE((*again)->postgres().initialized);
  CHECK(count_markers((*again)->postgres().address) == 1);
  auto redis = redis_client::connect((*again)->redis().address, 2s);
  REQUIRE(redis);
  CHECK(*redis->command({"GET", "marker"}) == "kept");
}

TEST_CASE("two processes never run servers on one data folder", "[embedded]") {
  testing::temp_dir dir;
  auto options = testing::test_embedded_options(dir.path());
  auto first = embedded_services::start(options);
  REQUIRE(first);
  auto second = embedded_services::start(options);
  REQUIRE_FALSE(second);
  CHECK_THAT(second.error().message(), Catch::Contains("another reelfarm process"));
  CHECK_FALSE(embedded_services::stop_leftovers(options));
}

TEST_CASE("servers left running by a dead process are recovered, data intact", "[embedded]") {
  testing::temp_dir dir;
  auto options = testing::test_embedded_options(dir.path());
  pid_t old_postgres = 0;
  pid_t old_redis = 0;
  {
    auto detached = options;
    detached.detach = true;  // as if the owner had died without stopping them
    auto services = embedded_services::start(detached);
    REQUIRE(services);
    write_marker((*services)->postgres().address, (*services)->redis().address);
    old_postgres = (*services)->postgres().pid;
    old_redis = (*services)->redis().pid;
    (*services)->detach();
  }
  REQUIRE(process_exists(old_postgres));
  auto services = embedded_services::start(options);
  REQUIRE(services);
  CHECK((*services)->postgres().pid != old_postgres);
  CHECK_FALSE(process_exists(old_redis));
  CHECK(count_markers((*services)->postgres().address) == 1);
}

TEST_CASE("a server that cannot start is an error with its log", "[embedded]") {
  testing::temp_dir dir;
  auto options = testing::test_embedded_options(dir.path());
  SECTION("missing binaries") {
    options.postgres_bin_dir = "/nonexistent/bin";
    auto services = embedded_services::start(options);
    REQUIRE_FALSE(services);
    CHECK_THAT(services.error().message(), Catch::Contains("/nonexistent/bin/initdb"));
  }
  SECTION("a corrupt cluster") {
    {
      auto services = embedded_services::start(options);
      REQUIRE(services);
    }
    std::filesystem::remove(dir.path() / "postgres" / "global" / "pg_control");
    auto services = embedded_services::start(options);
    REQUIRE_FALSE(services);
    CHECK(services.error().is(store_errc::server_start));
    CHECK_THAT(services.error().message(), Catch::Contains("pg_control"));
  }
}

TEST_CASE("a port taken since the last start costs one more attempt, not the start", "[embedded]") {
  testing::temp_dir dir;
  auto options = testing::test_embedded_options(dir.path());
  int old_postgres = 0;
  int old_redis = 0;
  {
    auto services = embedded_services::start(options);
    REQUIRE(services);
    write_marker((*services)->postgres().address, (*services)->redis().address);
    old_postgres = (*services)->postgres().port;
    old_redis = (*services)->redis().port;
  }
  // Someone else listens on both remembered ports now: each server's first
  // bind fails, and the start goes on with another port.
  auto postgres_squatter = listen_on_loopback(old_postgres);
  auto redis_squatter = listen_on_loopback(old_redis);
  auto services = embedded_services::start(options);
  REQUIRE(services);
  CHECK((*services)->postgres().port != old_postgres);
  CHECK((*services)->redis().port != old_redis);
  CHECK(count_markers((*services)->postgres().address) == 1);
  auto log = read_file(dir.path() / "log" / "postgres.log");
  REQUIRE(log);
  CHECK_THAT(*log, Catch::Contains("Address already in use"));
}

TEST_CASE("the embedded options resolve the data folder", "[embedded]") {
  embedded_settings settings;
  settings.data_dir = "relative/dir";
  auto options = embedded_options_from(settings);
  REQUIRE(options);
  CHECK(options->data_dir.is_absolute());
  settings.data_dir = "";
  options = embedded_options_from(settings);
  REQUIRE(options);
  CHECK(options->data_dir == default_data_dir());
  if (geteuid() == 0) {
    CHECK(options->run_as);
    settings.run_as = "root";
    CHECK_FALSE(embedded_options_from(settings));
    settings.run_as = "no-such-account";
    CHECK_FALSE(embedded_options_from(settings));
  }
}
