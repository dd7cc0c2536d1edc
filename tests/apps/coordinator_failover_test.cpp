// Coordinator failover: two `serve --role coordinator` processes on one
// database elect a leader with a PostgreSQL advisory lock; a gateway and two
// render nodes complete the cluster. The leader is killed with SIGKILL in the
// middle of a render: the standby must take over within 10 s (its /readyz
// turns 200), resume the job from PostgreSQL, and the film must complete with
// the user charged exactly once.
#include <pqxx/pqxx>

#include "cluster_support.hpp"
#include "reelfarm/testing/join_token.hpp"
#include "reelfarm/testing/log_watch.hpp"
#include "reelfarm/testing/services.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;
using namespace reelfarm::testing::cluster;

namespace {

// Every listener binds port 0 and the test reads the port back from the log.
std::string logged(process& p, const std::string& pattern) {
  return wait_for_log_match(p.log, pattern, 60s, [&p] { return p.child.running(); });
}
std::string health_port_of(process& p) {
  return logged(p, R"(msg="health listener" port=(\d+))");
}
std::string farm_endpoint_of(process& p) {
  return logged(p, R"(coordinator +(tcp://127\.0\.0\.1:\d+))");
}

}  // namespace

TEST_CASE("the standby coordinator takes over a render when the leader is killed",
          "[failover][integration]") {
  scratch_database db;
  temp_dir dir;
  auto data = dir.path() / "data";  // shared by every process: the media volume
  std::vector<std::string> common = {REELFARM_BINARY,
                                     "--data-dir",
                                     data.string(),
                                     "--set",
                                     "postgres.dsn=" + db.dsn(),
                                     "--set",
                                     "redis.url=" + test_services().redis_url,
                                     "--set",
                                     "gateway.port=0",
                                     "--set",
                                     "gateway.rate_limit_per_user=100000",
                                     "--set",
                                     "gateway.jwt_secret=failover-test-secret-of-enough-length"};
  auto with = [&](const std::string& farm_bind, std::vector<std::string> extra) {
    auto argv = common;
    argv.insert(argv.end(), {"--set", "farm.bind=" + farm_bind});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  };
  // The leader binds a port the OS picks; the standby binds the same one when
  // it takes over, and the gateway and nodes reach the farm there.
  process leader("coordinator-a", dir.path() / "coordinator-a.log",
                 with("tcp://127.0.0.1:*",
                      {"serve", "--role", "coordinator", "--health-port", "127.0.0.1:0"}));
  auto health_a = health_port_of(leader);
  REQUIRE(leader.wait_for_output("leader: this coordinator holds the leader lock", 60s));
  auto farm = farm_endpoint_of(leader);
  process standby("coordinator-b", dir.path() / "coordinator-b.log",
                  with(farm, {"serve", "--role", "coordinator", "--health-port", "127.0.0.1:0"}));
  INFO(standby.output());
  auto health_b = health_port_of(standby);
  REQUIRE(standby.wait_for_output("standby: waiting for the leader", 60s));
  CHECK(call("GET", "http://127.0.0.1:" + health_a + "/readyz").status == 200);
  CHECK(call("GET", "http://127.0.0.1:" + health_b + "/readyz").status == 503);
  CHECK(call("GET", "http://127.0.0.1:" + health_b + "/healthz").status == 200);
  process gateway("gateway", dir.path() / "gateway.log",
                  with(farm, {"serve", "--role", "gateway"}));
  REQUIRE(gateway.wait_for_output("msg=\"ready", 60s));
  auto base = logged(gateway, R"(gateway +(http://127\.0\.0\.1:\d+/api/v1))");
  std::vector<process> nodes;
  for (int i = 0; i < 2; ++i) {
    auto node_dir = dir.path() / ("node-" + std::to_string(i));
    std::filesystem::create_directories(node_dir);
    nodes.emplace_back(
        "node", node_dir / "node.log",
        std::vector<std::string>{REELFARM_BINARY, "--log-level", "warn", "node", "--join", farm,
                                 "--token", join_token_from_ctl(REELFARM_BINARY, data, farm),
                                 "--backend", "animatic", "--media-dir", (data / "media").string(),
                                 "--node-dir", node_dir.string()});
  }

  auto registered = call(
      "POST", base + "/auth/register", {},
      json{{"email", "ada@example.com"}, {"password", "a long enough password"}, {"full_name", "A"}}
          .dump());
  INFO(registered.body);
  REQUIRE(registered.status == 201);
  auto token = registered.parsed()["access_token"].get<std::string>();
  auto balance = [&] {
    auto r = call("GET", base + "/credits/balance", token);
    REQUIRE(r.status == 200);
    return r.parsed()["balance"].get<std::int64_t>();
  };
  auto start_balance = balance();
  auto script = read_file(std::filesystem::path(REELFARM_SOURCE_DIR) / "examples/sample.fountain");
  REQUIRE(script);
  auto project = call("POST", base + "/projects", token,
                      json{{"title", "Failover"}, {"script", *script}}.dump());
  INFO(project.body);
  REQUIRE(project.status == 201);
  auto project_id = project.parsed()["id"].get<std::string>();
  auto rendered = call("POST", base + "/projects/" + project_id + "/render", token);
  INFO(rendered.body);
  REQUIRE(rendered.status == 202);
  auto job_id = rendered.parsed()["job"]["id"].get<std::string>();
  auto cost = rendered.parsed()["plan"]["cost_credits"].get<std::int64_t>();

  // Mid-render: charged, some shots done, not all.
  json job;
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    job = call("GET", base + "/jobs/" + job_id, token).parsed();
    if (job.value("shots_done", 0) >= 1 || job.value("status", "") == "complete") {
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  INFO(job.dump() << "\n" << leader.output());
  REQUIRE(job["status"] == "processing");
  REQUIRE(job["shots_done"].get<int>() < job["shots_total"].get<int>());

  auto killed_at = std::chrono::steady_clock::now();
  leader.kill9();
  bool took_over = false;
  while (std::chrono::steady_clock::now() - killed_at < 15s) {
    if (call("GET", "http://127.0.0.1:" + health_b + "/readyz", {}, {}, 2).status == 200) {
      took_over = true;
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  auto takeover = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at);
  std::printf("standby ready %.1f s after the leader was killed\n", takeover.count());
  INFO(standby.output());
  REQUIRE(took_over);
  CHECK(takeover.count() < 10.0);
  CHECK(standby.output().find("leader: this coordinator holds the leader lock") !=
        std::string::npos);

  // The new leader resumes the job from PostgreSQL and finishes it.
  deadline = std::chrono::steady_clock::now() + 300s;
  while (std::chrono::steady_clock::now() < deadline) {
    job = call("GET", base + "/jobs/" + job_id, token).parsed();
    auto status = job.value("status", "");
    if (status == "complete" || status == "failed" || status == "cancelled") {
      break;
    }
    std::this_thread::sleep_for(250ms);
  }
  INFO(job.dump() << "\n" << standby.output());
  REQUIRE(job["status"] == "complete");
  CHECK(job["cost_credits"] == cost);
  CHECK(balance() == start_balance - cost);
  {
    pqxx::connection conn(db.dsn());
    pqxx::work tx(conn);
    auto deductions = tx.exec_params1(
                            "SELECT count(*) FROM credit_transactions WHERE job_id = $1 AND "
                            "kind = 'deduction'",
                            job_id)[0]
                          .as<int>();
    CHECK(deductions == 1);
    auto charged = tx.exec_params1(
                         "SELECT coalesce(-sum(delta), 0) FROM credit_transactions WHERE "
                         "job_id = $1",
                         job_id)[0]
                       .as<long long>();
    CHECK(charged == cost);
  }
  auto film = call("GET", base + "/projects/" + project_id + "/media/film", token, {}, 60);
  REQUIRE(film.status == 200);
  auto film_file = dir.path() / "film.mp4";
  REQUIRE(write_file_atomically(film_file, film.body, 0644));
  CHECK(ffprobe_duration(film_file) > 30.0);
  // The film is whole: no shot was lost or rendered twice into it.
  CHECK(job["shots_done"] == job["shots_total"]);
}

TEST_CASE("a leader whose lock session ends stops leading and exits 1, then the standby leads",
          "[failover][integration]") {
  scratch_database db;
  temp_dir dir;
  auto coordinator = [&](const std::string& name, const std::string& farm_bind) {
    return process(name, dir.path() / (name + ".log"),
                   {REELFARM_BINARY, "--data-dir", (dir.path() / "data").string(), "--set",
                    "postgres.dsn=" + db.dsn(), "--set", "redis.url=" + test_services().redis_url,
                    "--set", "farm.bind=" + farm_bind, "serve", "--role", "coordinator",
                    "--health-port", "127.0.0.1:0"});
  };
  auto leader = coordinator("coordinator-a", "tcp://127.0.0.1:*");
  REQUIRE(leader.wait_for_output("leader: this coordinator holds the leader lock", 60s));
  auto standby = coordinator("coordinator-b", farm_endpoint_of(leader));
  auto health_b = health_port_of(standby);
  REQUIRE(standby.wait_for_output("standby: waiting for the leader", 60s));

  // An operator (or a PostgreSQL restart) ends the leader's lock session.
  {
    pqxx::connection conn(db.dsn());
    pqxx::nontransaction tx(conn);
    auto ended = tx.exec1(
                       "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE "
                       "locktype = 'advisory' AND granted AND database = (SELECT oid FROM "
                       "pg_database WHERE datname = current_database()) AND "
                       "((classid::bigint << 32) | objid::bigint) = 8243395350629737842")[0]
                     .as<int>();
    REQUIRE(ended == 1);
  }
  INFO(leader.output());
  REQUIRE(leader.child.wait_for(10s));
  CHECK(leader.child.exit_status() == 1);
  CHECK(leader.output().find("leader lock lost") != std::string::npos);
  // The standby leads only after the previous leader's grace period.
  INFO(standby.output());
  REQUIRE(standby.wait_for_output("leader: this coordinator holds the leader lock", 10s));
  CHECK(standby.output().find("waiting out the previous leader") != std::string::npos);
  bool ready = false;
  for (int i = 0; i < 50 && !ready; ++i) {
    ready = call("GET", "http://127.0.0.1:" + health_b + "/readyz", {}, {}, 2).status == 200;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(ready);
}
