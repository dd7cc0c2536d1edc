// The ledger under faults: 64 concurrent clients on a few shared accounts,
// connections killed at random (pg_terminate_backend) or the server
// restarted mid-run, every call retried with its own key until it lands.
// Afterwards no credit may be missing or counted twice.
//
// Kills are paced by the calls that land, not by the clock: on a slow,
// loaded machine a clock-paced killer ends connections faster than they can
// finish a statement, and a call could then fail for a minute straight (it
// did, on CI). Paced by progress, the fault rate per call is the same on any
// machine, and a call that keeps failing stops the kills until it lands.
#include <signal.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "ledger_fixture.hpp"
#include "reelfarm/common/metrics.hpp"
#include "reelfarm/store/embedded_services.hpp"
#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/migrations.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace std::chrono_literals;

namespace {

constexpr int clients = 64;
constexpr int accounts = 8;
constexpr std::int64_t opening_balance = 20;
/// One backend killed for every this many calls that land.
constexpr int calls_per_kill = 4;

/// What the clients believe happened; the database must agree exactly.
struct tally {
  std::mutex mutex;
  std::map<std::string, std::int64_t> expected;  // user -> balance
  std::set<std::string> charged_jobs;
  std::set<std::string> failed_jobs;   // charged, then refunded
  std::set<std::string> refused_jobs;  // insufficient credits: never charged
  std::atomic<int> done_ops{0};
  std::atomic<int> landed_calls{0};  // paces the killer
  std::atomic<int> transient_errors{0};
  std::atomic<int> replays{0};
  // Catch2 assertions are not thread-safe: worker threads record here and
  // the test thread checks afterwards.
  std::vector<std::string> failures;
  std::atomic<bool> abort{false};  // a fault the test itself could not inject

  void expect(bool ok, const std::string& what) {
    if (!ok) {
      std::lock_guard lock(mutex);
      failures.push_back(what);
    }
  }

  void applied(const ledger_entry& e) {
    std::lock_guard lock(mutex);
    expected[e.user_id] += e.delta;
  }
};

/// reelfarm_ledger_retries_total summed over operations.
double ledger_retries() {
  double sum = 0;
  for (const auto& family : metrics::registry().Collect()) {
    if (family.name == "reelfarm_ledger_retries_total") {
      for (const auto& m : family.metric) {
        sum += m.counter.value;
      }
    }
  }
  return sum;
}

bool transient(const error& e) {
  return e.is(store_errc::connection) || e.is(store_errc::query);
}

// The job layer's loop: the same call, same key, until it lands or is refused.
// The deadline only keeps a hang from lasting forever: kills wait for calls
// to land, so every call gets through long before it.
template <class Op>
auto until_done(tally& t, Op op) {
  auto deadline = std::chrono::steady_clock::now() + 5min;
  for (;;) {
    auto r = op();
    if (r || !transient(r.error())) {
      ++t.landed_calls;
      return r;
    }
    if (std::chrono::steady_clock::now() > deadline || t.abort) {
      return r;
    }
    ++t.transient_errors;
    std::this_thread::sleep_for(20ms);
  }
}

void run_client(credit_ledger& ledger, const std::vector<std::string>& users, tally& t, int id,
                int ops) {
  std::mt19937 rng(static_cast<unsigned>(id) * 7919u + 1);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  for (int n = 0; n < ops && !t.abort; ++n) {
    const auto& user = users[static_cast<std::size_t>(pick(accounts))];
    auto tag = std::to_string(id) + "-" + std::to_string(n);
    auto roll = pick(100);
    if (roll < 60) {
      auto job = "job-" + tag;
      auto amount = 3 * (1 + pick(5));
      auto charged =
          until_done(t, [&] { return ledger.charge(user, job, amount, "", "charge:" + job); });
      if (!charged) {
        t.expect(charged.error().is(store_errc::insufficient_credits),
                 job + ": " + charged.error().full_text());
        std::lock_guard lock(t.mutex);
        t.refused_jobs.insert(job);
      } else {
        t.applied(*charged);
        {
          std::lock_guard lock(t.mutex);
          t.charged_jobs.insert(job);
        }
        if (pick(10) == 0) {  // a duplicate delivery of the start message
          auto again =
              until_done(t, [&] { return ledger.charge(user, job, amount, "", "charge:" + job); });
          t.expect(again && again->replayed && again->id == charged->id,
                   job + ": a repeated charge was not replayed");
          ++t.replays;
        }
        if (pick(2) == 0) {  // the render failed
          auto refunded =
              until_done(t, [&] { return ledger.refund(user, job, "failed", "refund:" + job); });
          if (!refunded) {
            t.expect(false, job + ": refund " + refunded.error().full_text());
            continue;
          }
          t.applied(*refunded);
          std::lock_guard lock(t.mutex);
          t.failed_jobs.insert(job);
        }
      }
    } else if (roll < 85) {
      // Drawn once: a retry must repeat the same request under its key.
      auto gift = 1 + pick(10);
      auto granted = until_done(t, [&] { return ledger.grant(user, gift, "", "grant:" + tag); });
      if (!granted) {
        t.expect(false, "grant " + granted.error().full_text());
        continue;
      }
      t.applied(*granted);
    } else {
      auto bought_amount = 5 + pick(10);
      auto bought = until_done(
          t, [&] { return ledger.purchase(user, bought_amount, "pay-" + tag, "", "buy:" + tag); });
      if (!bought) {
        t.expect(false, "purchase " + bought.error().full_text());
        continue;
      }
      t.applied(*bought);
    }
    ++t.done_ops;
  }
}

std::vector<std::string> open_accounts(credit_ledger& ledger, pqxx::connection& conn, tally& t) {
  std::vector<std::string> users;
  pqxx::work tx(conn);
  for (int i = 0; i < accounts; ++i) {
    users.push_back(tx.exec_params1("INSERT INTO users (email, password_hash) VALUES ($1, 'x') "
                                    "RETURNING id::text",
                                    "shared" + std::to_string(i) + "@example.com")[0]
                        .as<std::string>());
  }
  tx.commit();
  for (const auto& u : users) {
    auto g = ledger.grant(u, opening_balance, "opening", "open");
    REQUIRE(g);
    t.applied(*g);
  }
  return users;
}

void run_clients(credit_ledger& ledger, const std::vector<std::string>& users, tally& t, int ops) {
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] { run_client(ledger, users, t, c, ops); });
  }
  for (auto& th : threads) {
    th.join();
  }
}

void check_invariants(credit_ledger& ledger, pqxx::connection& conn, tally& t) {
  for (const auto& f : t.failures) {
    UNSCOPED_INFO(f);
  }
  CHECK(t.failures.empty());
  auto audit = ledger.audit();
  for (int i = 0; i < 3 && !audit; ++i) {
    audit = ledger.audit();  // idle pooled connections may have been killed
  }
  REQUIRE(audit);
  for (const auto& p : audit->problems) {
    UNSCOPED_INFO(p);
  }
  CHECK(audit->consistent());

  pqxx::nontransaction tx(conn);
  for (const auto& row : tx.exec("SELECT id::text, credits_balance FROM users")) {
    INFO("user " << row[0].as<std::string>());
    CHECK(row[1].as<std::int64_t>() >= 0);
    CHECK(row[1].as<std::int64_t>() == t.expected[row[0].as<std::string>()]);
  }
  std::map<std::string, std::pair<int, int>> per_job;  // deductions, refunds
  for (const auto& row : tx.exec("SELECT job_id, count(*) FILTER (WHERE kind = 'deduction'), "
                                 "count(*) FILTER (WHERE kind = 'refund') FROM credit_transactions "
                                 "WHERE job_id IS NOT NULL GROUP BY job_id")) {
    per_job[row[0].as<std::string>()] = {row[1].as<int>(), row[2].as<int>()};
  }
  CHECK(per_job.size() == t.charged_jobs.size());
  for (const auto& job : t.charged_jobs) {
    INFO("job " << job);
    CHECK(per_job[job].first == 1);
    CHECK(per_job[job].second == (t.failed_jobs.count(job) ? 1 : 0));
  }
  for (const auto& job : t.refused_jobs) {
    CHECK(per_job.count(job) == 0);
  }
  WARN("ops " << t.done_ops << ", charged jobs " << t.charged_jobs.size() << ", failed (refunded) "
              << t.failed_jobs.size() << ", refused " << t.refused_jobs.size() << ", replays "
              << t.replays << ", transient errors seen by clients " << t.transient_errors);
}

}  // namespace

TEST_CASE("64 clients with connections killed at random keep the ledger exact", "[ledger][fault]") {
  testing::scratch_database db;
  pg_pool pool(db.dsn(), clients);
  balance_cache cache(testing::test_services().redis_url);
  credit_ledger ledger(pool, plan_catalog::defaults(), &cache);
  pqxx::connection admin(db.dsn());
  tally t;
  auto users = open_accounts(ledger, admin, t);

  std::atomic<bool> stop{false};
  std::atomic<int> killed{0};
  std::thread killer([&] {
    pqxx::connection conn(db.dsn());
    int kills_due_at = calls_per_kill;
    while (!stop) {
      if (t.landed_calls < kills_due_at) {
        std::this_thread::sleep_for(1ms);
        continue;
      }
      kills_due_at += calls_per_kill;
      pqxx::nontransaction tx(conn);
      killed += tx.exec(
                      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                      "AND backend_type = 'client backend' "
                      // A statement in flight first: that is the in-doubt case.
                      "ORDER BY state = 'active' DESC, random() LIMIT 1")
                    .size();
    }
  });
  const auto retries_before = ledger_retries();
  run_clients(ledger, users, t, 30);
  stop = true;
  killer.join();
  const auto retried = ledger_retries() - retries_before;
  WARN("connections killed: " << killed << ", ledger attempts retried: " << retried);
  CHECK(killed > 20);
  CHECK(retried > 20);  // the kills hit statements, not only idle connections
  pqxx::connection checker(db.dsn());
  check_invariants(ledger, checker, t);
}

TEST_CASE("the ledger stays exact across server restarts and a crash mid-run", "[ledger][fault]") {
  testing::temp_dir dir;
  auto options = testing::test_embedded_options(dir.path());
  // The test default trades durability for speed (synchronous_commit off):
  // a crash would then lose acknowledged commits by design. The ledger's
  // promise is made for a durable server, so this test runs on one.
  options.durable = true;
  auto services = embedded_services::start(options);
  REQUIRE(services);
  auto dsn = (*services)->postgres().address;
  {
    pqxx::connection conn(dsn);
    REQUIRE(migrate(conn, bundled_migrations()));
  }
  pg_pool pool(dsn, clients);
  balance_cache cache((*services)->redis().address);
  credit_ledger ledger(pool, plan_catalog::defaults(), &cache);
  tally t;
  std::vector<std::string> users;
  {
    pqxx::connection conn(dsn);
    users = open_accounts(ledger, conn, t);
  }
  constexpr int ops = 25;
  std::atomic<int> restarts{0};
  std::atomic<bool> clients_done{false};
  // The launcher starts servers with PR_SET_PDEATHSIG, which fires when the
  // starting *thread* exits: so this thread restarts them, and the clients
  // run on another.
  std::thread driver([&] {
    run_clients(ledger, users, t, ops);
    clients_done = true;
  });
  auto total = clients * ops;
  auto wait_for = [&](int share) {
    while (t.done_ops < total * share / 100 && !clients_done) {
      std::this_thread::sleep_for(5ms);
    }
  };
  auto restart = [&](bool crash) {
    if (crash) {
      // SIGQUIT: the postmaster quits at once without a checkpoint, so the
      // next start replays the WAL, as after a power cut of the process.
      ::kill((*services)->postgres().pid, SIGQUIT);
      std::this_thread::sleep_for(300ms);
    }
    auto stopped = (*services)->stop();
    t.expect(crash || stopped.has_value(), "the clean stop failed");
    services->reset();
    services = embedded_services::start(options);
    if (!services) {
      t.expect(false, "the restart failed: " + services.error().full_text());
      t.abort = true;
      return;
    }
    // The launcher reuses the port when it can; where it could not, the
    // pool follows the server like an operator's fail-over would.
    pool.set_dsn((*services)->postgres().address);
    ++restarts;
  };
  wait_for(25);
  restart(false);
  wait_for(60);
  if (services) {
    restart(true);
  }
  driver.join();
  CHECK(restarts == 2);
  REQUIRE(services);
  pqxx::connection conn(pool.dsn());
  check_invariants(ledger, conn, t);
}
