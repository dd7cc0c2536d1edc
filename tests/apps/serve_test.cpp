#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "cluster_support.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/testing/log_watch.hpp"
#include "reelfarm/testing/services.hpp"
#include "run_reelfarm.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;
using namespace std::chrono_literals;

namespace {

// Each serve runs its own farm coordinator: never on the configured default
// port, which parallel tests would share, but on one the OS picks.
std::string free_farm_bind() {
  return "farm.bind=tcp://127.0.0.1:*";
}

// `reelfarm serve` running in the background on a data folder of its own.
struct background_serve {
  child_process process;
  std::filesystem::path log;

  explicit background_serve(const std::filesystem::path& data_dir,
                            const std::vector<std::string>& serve_args = {}) {
    // One log per run: a second serve on the same folder must not find the
    // first one's "ready" line.
    static int runs = 0;
    log = data_dir.parent_path() / ("serve-" + std::to_string(++runs) + ".log");
    process_options p;
    p.argv = {REELFARM_BINARY,  "--data-dir", data_dir.string(), "--set",
              "gateway.port=0", "--set",      free_farm_bind(),  "serve"};
    p.argv.insert(p.argv.end(), serve_args.begin(), serve_args.end());
    p.output_file = log.string();
    auto child = child_process::spawn(p);
    REQUIRE(child);
    process = std::move(child).value();
  }

  // The gateway's base URL from serve's status lines (after wait_ready).
  std::string api_base() const {
    return wait_for_log_match(log, R"(gateway +(http://127\.0\.0\.1:\d+/api/v1))", 10s);
  }

  // Waits for the "ready" line, or fails with the log.
  void wait_ready() {
    for (int i = 0; i < 600; ++i) {
      auto text = read_file(log);
      if (text && text->find("msg=\"ready") != std::string::npos) {
        return;
      }
      REQUIRE(process.running());
      std::this_thread::sleep_for(100ms);
    }
    FAIL("serve did not become ready: " << read_file(log).value());
  }
};

nlohmann::json state_of(const std::filesystem::path& data_dir) {
  return nlohmann::json::parse(*read_file(data_dir / "run" / "services.json"));
}

}  // namespace

TEST_CASE("serve --check starts the services, migrates, reports and stops", "[serve]") {
  temp_dir dir;
  auto run = run_reelfarm({"--data-dir", (dir.path() / "data").string(), "--set", "gateway.port=0",
                           "--set", free_farm_bind(), "serve", "--check"});
  INFO(run.output);
  CHECK(run.status == 0);
  CHECK_THAT(run.output, Catch::Contains("PostgreSQL 15.") && Catch::Contains("Redis ") &&
                             Catch::Contains("schema version") &&
                             Catch::Contains("all services stopped cleanly") &&
                             Catch::Contains("gateway      http://127.0.0.1:"));
  CHECK_THAT(run.output, !Catch::Contains("password="));
}

TEST_CASE("serve survives kill -9: a restart recovers the servers and keeps the data", "[serve]") {
  temp_dir dir;
  auto data = dir.path() / "data";
  pid_t old_postgres = 0;
  {
    background_serve serve(data);
    serve.wait_ready();
    auto state = state_of(data);
    old_postgres = state["postgres"]["pid"].get<pid_t>();
    pqxx::connection conn(state["postgres"]["dsn"].get<std::string>());
    pqxx::work tx(conn);
    tx.exec0("INSERT INTO users (email, password_hash) VALUES ('kill9@example.com', 'x')");
    tx.commit();
    serve.process.signal(SIGKILL);
    REQUIRE(serve.process.wait_for(5s));
  }
  background_serve serve(data);
  serve.wait_ready();
  auto state = state_of(data);
  CHECK(state["postgres"]["pid"].get<pid_t>() != old_postgres);
  {
    pqxx::connection conn(state["postgres"]["dsn"].get<std::string>());
    pqxx::read_transaction tx(conn);
    CHECK(tx.exec1("SELECT count(*) FROM users WHERE email = 'kill9@example.com'")[0].as<int>() ==
          1);
  }
  // SIGTERM: an orderly stop of everything serve started.
  serve.process.signal(SIGTERM);
  REQUIRE(serve.process.wait_for(60s));
  CHECK(serve.process.exit_status() == 0);
  CHECK_FALSE(process_exists(state["postgres"]["pid"].get<pid_t>()));
  CHECK_FALSE(process_exists(state["redis"]["pid"].get<pid_t>()));
}

TEST_CASE("a sign-in survives a restart of serve on the embedded default", "[serve]") {
  temp_dir dir;
  auto data = dir.path() / "data";
  std::string token;
  {
    background_serve serve(data);
    serve.wait_ready();
    auto registered = cluster::call("POST", serve.api_base() + "/auth/register", {},
                                    R"({"email":"stay@example.com","password":"a long password",)"
                                    R"("full_name":"Stay"})");
    INFO(registered.body);
    REQUIRE(registered.status == 201);
    token = registered.parsed()["access_token"].get<std::string>();
    serve.process.signal(SIGTERM);
    REQUIRE(serve.process.wait_for(60s));
  }
  // The signing key lives beside the servers' passwords, readable by its owner only.
  struct stat key {};
  REQUIRE(::stat((data / "secrets" / "jwt.key").c_str(), &key) == 0);
  CHECK((key.st_mode & 0777) == 0600);

  background_serve serve(data);
  serve.wait_ready();
  auto me = cluster::call("GET", serve.api_base() + "/users/me", token);
  INFO(me.body);
  CHECK(me.status == 200);
  CHECK(me.parsed()["email"] == "stay@example.com");
  auto text = read_file(serve.log);
  REQUIRE(text);
  CHECK_THAT(*text, !Catch::Contains("no JWT secret configured"));
}

TEST_CASE("serve exposes metrics on --metrics-port, never on the API port", "[serve]") {
  temp_dir dir;
  // An explicit port that is not one is refused before anything starts.
  auto bad = run_reelfarm(
      {"--data-dir", (dir.path() / "bad").string(), "serve", "--metrics-port", "127.0.0.1:http"});
  CHECK(bad.status == 2);
  CHECK_THAT(bad.output, Catch::Contains("--metrics-port takes [HOST:]PORT"));

  background_serve serve(dir.path() / "data", {"--metrics-port", "127.0.0.1:0"});
  serve.wait_ready();
  auto port = wait_for_log_match(serve.log, R"(msg="metrics listening".* port=(\d+))", 10s);
  auto api = serve.api_base();
  CHECK(cluster::call("GET", api + "/healthz").status == 200);
  auto origin = api.substr(0, api.size() - std::string("/api/v1").size());
  CHECK(cluster::call("GET", origin + "/metrics").status == 404);
  CHECK(cluster::call("GET", api + "/metrics").status == 404);
  auto scraped = cluster::call("GET", "http://127.0.0.1:" + port + "/metrics");
  REQUIRE(scraped.status == 200);
  CHECK_THAT(scraped.body, Catch::Contains("reelfarm_build_info") &&
                               Catch::Contains("reelfarm_http_requests_total{"));
  serve.process.signal(SIGTERM);
  CHECK(serve.process.wait_for(60s));
}

TEST_CASE("with a DSN and a Redis URL configured, serve uses those servers", "[serve]") {
  const auto& servers = test_services();
  auto run = run_reelfarm({"--set", "postgres.dsn=" + servers.postgres_dsn, "--set",
                           "redis.url=" + servers.redis_url, "--set", "gateway.port=0", "--set",
                           free_farm_bind(), "serve", "--check"});
  INFO(run.output);
  CHECK(run.status == 0);
  CHECK_THAT(run.output, Catch::Contains("postgres     external") &&
                             Catch::Contains("redis        external") &&
                             Catch::Contains("schema version"));
  auto pw = servers.postgres_dsn.find("password=");
  REQUIRE(pw != std::string::npos);
  auto secret = servers.postgres_dsn.substr(pw + 9, servers.postgres_dsn.find(' ', pw) - pw - 9);
  CHECK_THAT(run.output, !Catch::Contains("data dir") && !Catch::Contains(secret) &&
                             Catch::Contains("password=[redacted]"));
}

TEST_CASE("an unreachable configured server is a clear error, not a hang", "[serve]") {
  auto run = run_reelfarm({"--set", "postgres.dsn=host=127.0.0.1 port=1 dbname=x password=pw",
                           "--set", "redis.url=redis://127.0.0.1:1", "serve", "--check"},
                          std::chrono::seconds(30));
  CHECK(run.status == 1);
  CHECK_THAT(run.output, Catch::Contains("cannot connect to PostgreSQL") &&
                             Catch::Contains("port=1") && !Catch::Contains("pw"));
}
