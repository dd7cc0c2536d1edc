// `reelfarm render` under faults, with the real binaries: a render node
// killed with -9 mid-render, and a backend that fails every shot. Each run
// ends with the film checked by ffprobe (where one is expected) and the
// ledger audited in the render's own PostgreSQL.
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <catch2/catch.hpp>

#include "reelfarm/testing/temp_dir.hpp"
#include "render_e2e_support.hpp"

using namespace reelfarm;
using namespace reelfarm::testing::render_e2e;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

namespace {

// Four scenes, a dozen shots: at 1280x720 each shot takes about a second on
// a node, so there is work left on both nodes when one is killed.
constexpr const char* screenplay_text = R"(Title: Salt Road

EXT. SALT FLATS - DAY

A white plain to the horizon. A truck crawls along the only road.

DEV
We should have turned left at the last town.

TESS
There was no last town.

INT. TRUCK CAB - CONTINUOUS

Maps everywhere. A compass spins lazily on the dashboard.

DEV
That compass has never worked.

EXT. ABANDONED STATION - DUSK

A petrol pump, rusted through. A dog sleeps under the awning.

TESS
Someone still feeds that dog.

The dog opens one eye and watches them.

EXT. SALT FLATS - NIGHT

The truck's headlights cut two lines across the salt.

DEV
Left, then.
)";

// The local account starts on Free with 3 credits; moving it to Pro grants
// the difference: 100 before any render.
constexpr long long pro_start_balance = 100;

struct job_row {
  std::string id;
  std::string status;
  std::string error;
  long long cost = 0;
  int shots = 0;
};

job_row only_job(stored_state& db) {
  pqxx::work tx(db.connection());
  auto rows = tx.exec(
      "SELECT id::text, status, coalesce(error, ''), cost_credits, shots_total "
      "FROM ai_jobs");
  REQUIRE(rows.size() == 1);
  return {rows[0][0].as<std::string>(), rows[0][1].as<std::string>(), rows[0][2].as<std::string>(),
          rows[0][3].as<long long>(), rows[0][4].as<int>()};
}

long long local_balance(stored_state& db) {
  return db.one<long long>(
      "SELECT credits_balance FROM users WHERE email = 'local@reelfarm.localhost'");
}

long long count_tx(stored_state& db, const std::string& kind, const std::string& job) {
  return db.one<long long>("SELECT count(*) FROM credit_transactions WHERE kind = '" + kind +
                           "' AND job_id = '" + job + "'");
}

}  // namespace

TEST_CASE("a render node killed with -9 mid-render: the film completes, charged once",
          "[e2e][fault]") {
  testing::temp_dir dir;
  auto log = dir.path() / "render.log";
  auto data = dir.path() / "data";
  auto child =
      start_render(dir.path(), screenplay_text, {"--nodes", "2", "--resolution", "1280x720"}, log);
  render_guard guard(child);

  // Wait, reading the render's own database, until node-0 holds a lease
  // (state 'offered' stays until the lease ends) and at least one shot is
  // done, so the kill lands in the middle of a render with work left.
  std::string node0_id;
  pid_t victim = 0;
  bool killed = false;
  auto until = steady::now() + 180s;
  while (!killed && steady::now() < until && child.running()) {
    std::this_thread::sleep_for(20ms);
    if (node0_id.empty()) {
      node0_id = slurp(data / "render-nodes" / "node-0" / "node-id");
      node0_id.erase(node0_id.find_last_not_of(" \n") + 1);
      continue;
    }
    auto dsn = live_dsn(data);
    victim = node_pid(child.pid(), 0);
    if (!dsn || victim <= 0) {
      continue;
    }
    try {
      pqxx::connection conn(*dsn);
      pqxx::work tx(conn);
      auto row = tx.exec1(
          "SELECT count(*) FILTER (WHERE state = 'offered' AND node_id = " + tx.quote(node0_id) +
          "), count(*) FILTER (WHERE state = 'done') FROM farm_leases");
      // Killed right after the query: the lease is still running.
      if (row[0].as<int>() > 0 && row[1].as<int>() > 0) {
        REQUIRE(::kill(victim, SIGKILL) == 0);
        killed = true;
      }
    } catch (const std::exception&) {
      // not migrated yet, or the server is starting: try again
    }
  }
  INFO(slurp(log));
  REQUIRE(killed);

  REQUIRE(child.wait_for(240s));
  auto output = slurp(log);
  INFO(output);
  REQUIRE(child.exit_status() == 0);
  CHECK(output.find("Rendered \"Salt Road\"") != std::string::npos);
  CHECK_FALSE(process_exists(victim));
  CHECK(all_gone(data.string()));  // nodes, PostgreSQL and Redis stopped with it

  // The film: both streams, 1280x720, and as long as its manifest says.
  auto film = dir.path() / "out" / "film.mp4";
  auto p = ffprobe(film);
  CHECK(p.video_streams == 1);
  CHECK(p.audio_streams == 1);
  CHECK(p.video_codec == "h264");
  CHECK(p.audio_codec == "aac");
  CHECK(p.width == 1280);
  CHECK(p.height == 720);
  auto manifest = nlohmann::json::parse(slurp(dir.path() / "out" / "manifest.json"));
  double planned = 0;
  int manifest_shots = 0;
  for (const auto& scene : manifest["scenes"]) {
    for (const auto& shot : scene["shots"]) {
      planned += shot["duration_s"].get<double>();
      ++manifest_shots;
    }
  }
  CHECK(manifest["scenes"].size() == 4);
  CHECK(p.duration_s == Approx(manifest["duration_s"].get<double>()).margin(0.1));
  CHECK(p.duration_s == Approx(planned).margin(0.1));
  CHECK(p.duration_s > 20);

  stored_state db(data);
  auto job = only_job(db);
  CHECK(job.status == "complete");
  CHECK(job.shots == manifest_shots);
  // The kill cost a lease, not the render: node-0's lease expired and its
  // shot was rendered again; every shot has exactly one done lease.
  pqxx::work tx(db.connection());
  auto expired =
      tx.exec1("SELECT count(*) FROM farm_leases WHERE state = 'expired' AND node_id = " +
               tx.quote(node0_id))[0]
          .as<int>();
  auto done = tx.exec1(
      "SELECT count(*), count(DISTINCT shot_id) FROM farm_leases "
      "WHERE state = 'done'");
  tx.commit();
  CHECK(expired >= 1);
  CHECK(done[0].as<int>() == job.shots);
  CHECK(done[1].as<int>() == job.shots);
  // Charged exactly once, never refunded.
  CHECK(job.cost > 0);
  CHECK(count_tx(db, "deduction", job.id) == 1);
  CHECK(count_tx(db, "refund", job.id) == 0);
  CHECK(local_balance(db) == pro_start_balance - job.cost);
  db.check_ledger();
}

TEST_CASE("a backend that always fails: the project fails fast and is refunded once",
          "[e2e][fault]") {
  testing::temp_dir dir;
  // An exec backend (docs/farm.md): exit 1 is a retryable failure, so the
  // farm retries on the other node until both are blocklisted for the job.
  auto script = dir.path() / "always-fails.sh";
  auto runs = dir.path() / "runs.txt";
  std::ofstream(script) << "#!/bin/sh\n"
                        << "echo \"progress 10 pretending\"\n"
                        << "echo run >> '" << runs.string() << "'\n"
                        << "echo 'the GPU caught fire' >&2\n"
                        << "exit 1\n";
  fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
  auto log = dir.path() / "render.log";
  auto started = steady::now();
  auto child = start_render(
      dir.path(), screenplay_text,
      {"--nodes", "2", "--resolution", "320x180", "--backend", "exec:" + script.string()}, log);
  render_guard guard(child);
  // Far below the shot actors' 15-minute timeout: the farm itself gives up.
  REQUIRE(child.wait_for(120s));
  auto seconds = std::chrono::duration<double>(steady::now() - started).count();
  auto output = slurp(log);
  INFO(output);
  CHECK(seconds < 60);
  CHECK(child.exit_status() != 0);
  CHECK(output.find("the render failed") != std::string::npos);
  CHECK(output.find("blocklisted") != std::string::npos);
  CHECK(std::regex_search(output, std::regex(R"(\d+ credits were refunded)")));
  CHECK_FALSE(fs::exists(dir.path() / "out" / "film.mp4"));
  CHECK(all_gone((dir.path() / "data").string()));
  // Each node fails the job 3 times, then is blocklisted for it: 6 runs.
  auto attempts = std::count(std::istreambuf_iterator<char>(std::ifstream(runs).rdbuf()), {}, '\n');
  CHECK(attempts >= 3);
  CHECK(attempts <= 6);

  stored_state db(dir.path() / "data");
  auto job = only_job(db);
  CHECK(job.status == "failed");
  CHECK(job.error.find("blocklisted") != std::string::npos);
  CHECK(job.cost > 0);
  CHECK(count_tx(db, "deduction", job.id) == 1);
  CHECK(count_tx(db, "refund", job.id) == 1);
  CHECK(db.one<long long>("SELECT count(*) FROM credit_transactions r JOIN credit_transactions d "
                          "ON r.refund_of = d.id WHERE r.kind = 'refund' AND r.job_id = '" +
                          job.id + "' AND r.amount = d.amount") == 1);
  CHECK(local_balance(db) == pro_start_balance);
  db.check_ledger();
}
