// The chaos run: the farm writes users, renders, credit movements and uploads
// while the local Salesforce injects faults (5xx, timeouts, dropped
// connections, expired sessions, locked rows, limit exhaustion) and the sync
// processes are SIGKILLed mid-batch and restarted. Afterwards Salesforce must
// equal PostgreSQL exactly: nothing lost, nothing duplicated.
#include <csignal>
#include <random>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "reelfarm/common/process.hpp"
#include "reelfarm/crm_sync/crm_admin.hpp"
#include "reelfarm/crm_sync/salesforce_client.hpp"
#include "reelfarm/testing/services.hpp"
#include "support/farm_changes.hpp"
#include "support/local_salesforce.hpp"
#include "support/mirror_check.hpp"

using namespace reelfarm;
using testing::local_salesforce;

namespace {

child_process start_worker(const std::string& dsn, const local_salesforce& sf, int n) {
  process_options o;
  o.argv = {REELFARM_CRM_WORKER,
            dsn,
            sf.url(),
            local_salesforce::client_id,
            local_salesforce::client_secret,
            "worker-" + std::to_string(n)};
  auto child = child_process::spawn(o);
  REQUIRE(child);
  return std::move(*child);
}

/// One step of farm activity, chosen at random.
void farm_step(testing::farm_changes& farm, std::mt19937& rng, std::vector<std::string>& users,
               std::vector<std::pair<std::string, std::string>>& projects, int i) {
  const int pick = static_cast<int>(rng() % 10);
  if (pick == 0 || users.size() < 5) {
    users.push_back(farm.add_user("Chaos User " + std::to_string(i)));
    return;
  }
  const auto& user = users[rng() % users.size()];
  if (pick <= 2) {
    projects.emplace_back(user, farm.add_project(user, "Film " + std::to_string(i)));
  } else if (pick <= 4 && !projects.empty()) {
    const auto& [owner, project] = projects[rng() % projects.size()];
    static const char* statuses[] = {"processing", "complete", "failed", "cancelled"};
    farm.set_project_status(project, statuses[rng() % 4]);
  } else if (pick == 5 && !projects.empty()) {
    const auto& [owner, project] = projects[rng() % projects.size()];
    farm.add_upload(owner, project, rng() % 2 ? "complete" : "uploading");
  } else if (pick == 6) {
    static const char* plans[] = {"free", "standard", "pro", "enterprise"};
    farm.set_plan(user, plans[rng() % 4]);
  } else if (pick == 7) {
    farm.grant(user, 50, "buy-" + std::to_string(i));
    farm.charge(user, "job-" + std::to_string(i), 3, rng() % 2 == 0);
  } else {
    farm.grant(user, 1 + static_cast<int>(rng() % 5), "grant-" + std::to_string(i));
  }
}

}  // namespace

TEST_CASE("chaos: faults and killed sync processes lose and duplicate nothing", "[crm][chaos]") {
  testing::scratch_database db;
  local_salesforce sf;
  sf.admin("faults", {{"random",
                       {{"rate", 0.3},
                        {"lock_rate", 0.03},
                        {"seed", 11},
                        {"kinds",
                         {"unavailable", "server_error", "lock_row", "drop", "timeout",
                          "expire_session", "limit"}}}}});
  std::vector<child_process> workers;
  workers.push_back(start_worker(db.dsn(), sf, 0));
  workers.push_back(start_worker(db.dsn(), sf, 1));

  testing::farm_changes farm(db.dsn());
  std::mt19937 rng(2024);
  std::vector<std::string> users;
  std::vector<std::pair<std::string, std::string>> projects;
  int kills = 0;
  auto last_kill = std::chrono::steady_clock::now();
  for (int i = 0; i < 1500; ++i) {
    farm_step(farm, rng, users, projects, i);
    // Paced like a busy farm (about 500 changes/s), so the sync processes
    // are caught in the middle of their batches rather than between bursts.
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (std::chrono::steady_clock::now() - last_kill > std::chrono::milliseconds(300)) {
      // SIGKILL: no destructor, no rollback from our side; PostgreSQL aborts
      // the open transaction when the connection dies.
      auto& victim = workers[kills % workers.size()];
      victim.signal(SIGKILL);
      victim.wait_for(std::chrono::seconds(5));
      victim = start_worker(db.dsn(), sf, 2 + kills);
      ++kills;
      last_kill = std::chrono::steady_clock::now();
    }
  }
  sf.admin("faults", {{"random", nullptr}});
  pqxx::connection conn(db.dsn());
  crm::outbox_backlog backlog;
  for (int i = 0; i < 600; ++i) {
    auto b = crm::read_backlog(conn);
    REQUIRE(b);
    backlog = *b;
    if (backlog.pending == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& w : workers) {
    w.signal(SIGKILL);
    w.wait_for(std::chrono::seconds(5));
  }
  const auto stats = sf.stats();
  INFO("kills=" << kills << " faults=" << stats["faults_injected"] << " stats=" << stats.dump());
  CHECK(kills >= 3);
  CHECK(stats["faults_injected"].get<int>() >= 10);
  CHECK(backlog.pending == 0);
  CHECK(backlog.dead_letters_open == 0);

  crm::salesforce_client client(sf.options());
  std::size_t compared = 0;
  auto diffs = testing::mirror_differences(db.dsn(), client, &compared);
  for (std::size_t i = 0; i < diffs.size() && i < 20; ++i) {
    UNSCOPED_INFO(diffs[i]);
  }
  CHECK(diffs.empty());
  CHECK(compared > 1000);
}
