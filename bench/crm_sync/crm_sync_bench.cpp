// crm_sync_bench [SECONDS]: the two figures of issue #10.
//  1. Salesforce API calls per 1,000 changed records: the drainer (sObject
//     Collections, 200 per call; and Bulk API 2.0 for a backfill) against the
//     baseline of one call per record, measured in the same run with the same
//     code at batch size 1.
//  2. Replication lag at 100 changes/s: commit of the change -> Salesforce
//     accepted it (crm_outbox.created_at -> done_at), p50/p99/max, with the
//     runner woken by LISTEN/NOTIFY.
#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>

#include <pqxx/pqxx>

#include "reelfarm/common/log.hpp"
#include "reelfarm/crm_sync/crm_admin.hpp"
#include "reelfarm/crm_sync/crm_sync_runner.hpp"
#include "reelfarm/crm_sync/outbox_drainer.hpp"
#include "reelfarm/testing/services.hpp"
#include "support/farm_changes.hpp"
#include "support/local_salesforce.hpp"

using namespace reelfarm;

namespace {

long long scalar(pqxx::connection& conn, const std::string& sql) {
  pqxx::read_transaction tx(conn);
  return tx.exec1(sql)[0].as<long long>();
}

/// 1,000 changed records: 100 users (a Contact and a signup credit each),
/// 400 projects, 400 grants (which also change Contacts: coalesced).
void write_thousand_records(testing::farm_changes& farm) {
  std::vector<std::string> users;
  for (int i = 0; i < 100; ++i) {
    users.push_back(farm.add_user("Bench User " + std::to_string(i)));
  }
  for (int i = 0; i < 400; ++i) {
    farm.add_project(users[i % 100], "Bench film " + std::to_string(i));
    farm.grant(users[i % 100], 2, "bench-" + std::to_string(i));
  }
}

/// Drains the whole outbox with `options`; returns the data API calls made.
long long drain_calls(const std::string& dsn, testing::local_salesforce& sf,
                      const crm::crm_options& options) {
  pqxx::connection conn(dsn);
  crm::salesforce_client client(options);
  crm::outbox_drainer drainer(conn, client, options);
  const long long before = sf.stats()["api_calls"];
  for (int i = 0; i < 10000; ++i) {
    auto r = drainer.drain_once();
    if (!r || r->claimed_rows == 0) {
      break;
    }
  }
  return sf.stats()["api_calls"].get<long long>() - before;
}

void calls_per_thousand() {
  testing::scratch_database db;
  testing::local_salesforce sf;
  testing::farm_changes farm(db.dsn());
  write_thousand_records(farm);
  pqxx::connection conn(db.dsn());
  const auto rows = scalar(conn, "SELECT count(*) FROM crm_outbox");
  const auto records = scalar(
      conn, "SELECT count(*) FROM (SELECT DISTINCT aggregate, record_key FROM crm_outbox) r");

  auto batched = sf.options();
  const auto calls = drain_calls(db.dsn(), sf, batched);

  auto one_by_one = sf.options();
  one_by_one.batch_size = 1;
  if (!crm::enqueue_backfill(conn)) {
    std::fprintf(stderr, "backfill failed\n");
    return;
  }
  const auto baseline = drain_calls(db.dsn(), sf, one_by_one);

  auto bulk = sf.options();
  bulk.bulk_threshold = 100;
  if (!crm::enqueue_backfill(conn)) {
    return;
  }
  const auto bulk_calls = drain_calls(db.dsn(), sf, bulk);

  const double per_k = 1000.0 * calls / records;
  std::printf("changes (outbox rows): %lld, distinct records: %lld\n", rows, records);
  std::printf("collections (200/call): %lld calls -> %.1f calls per 1,000 records\n", calls, per_k);
  std::printf("baseline (1/call):      %lld calls -> %.1f calls per 1,000 records\n", baseline,
              1000.0 * baseline / records);
  std::printf("bulk API 2.0 backfill:  %lld calls -> %.1f calls per 1,000 records\n", bulk_calls,
              1000.0 * bulk_calls / records);
  std::printf("ratio baseline/collections: %.0fx\n",
              calls ? static_cast<double>(baseline) / calls : 0.0);
}

void replication_lag(int seconds, std::chrono::milliseconds send_interval) {
  testing::scratch_database db;
  testing::local_salesforce sf;
  testing::farm_changes farm(db.dsn());
  std::vector<std::string> users;
  std::vector<std::string> projects;
  for (int i = 0; i < 50; ++i) {
    users.push_back(farm.add_user("Lag User " + std::to_string(i)));
    projects.push_back(farm.add_project(users.back(), "Lag film " + std::to_string(i)));
  }
  auto options = sf.options();
  options.poll_interval = std::chrono::seconds(5);  // the default: NOTIFY does the work
  options.send_interval = send_interval;
  crm::crm_sync_runner runner(db.dsn(), options);
  if (!runner.start()) {
    std::fprintf(stderr, "the runner did not start\n");
    return;
  }
  pqxx::connection conn(db.dsn());
  for (int i = 0; i < 100 && scalar(conn, "SELECT count(*) FROM crm_outbox WHERE done_at IS NULL");
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const auto first_id = scalar(conn, "SELECT coalesce(max(id), 0) FROM crm_outbox");
  std::mt19937 rng(5);
  const auto start = std::chrono::steady_clock::now();
  const int total = seconds * 100;
  static const char* statuses[] = {"processing", "complete", "failed", "pending"};
  for (int i = 0; i < total; ++i) {
    std::this_thread::sleep_until(start + std::chrono::milliseconds(10 * i));
    if (i % 2 == 0) {
      farm.grant(users[rng() % users.size()], 1, "lag-" + std::to_string(i));
    } else {
      farm.set_project_status(projects[rng() % projects.size()], statuses[rng() % 4]);
    }
  }
  const double achieved =
      total / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int i = 0; i < 300 && scalar(conn, "SELECT count(*) FROM crm_outbox WHERE done_at IS NULL");
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  runner.stop();
  pqxx::read_transaction tx(conn);
  auto r = tx.exec_params1(
      "SELECT count(*), "
      " percentile_cont(0.5) WITHIN GROUP (ORDER BY lag),"
      " percentile_cont(0.99) WITHIN GROUP (ORDER BY lag), max(lag) "
      "FROM (SELECT extract(epoch FROM done_at - created_at) * 1000 AS lag FROM crm_outbox "
      "      WHERE id > $1 AND done_at IS NOT NULL) l",
      first_id);
  const auto status = runner.status();
  std::printf(
      "send_interval %lld ms: lag at %.1f changes/s over %d s: %lld outbox rows, p50 %.0f ms, "
      "p99 %.0f ms, max %.0f ms; %llu API calls (%.1f per 1,000 changes)\n",
      static_cast<long long>(send_interval.count()), achieved, seconds, r[0].as<long long>(),
      r[1].as<double>(), r[2].as<double>(), r[3].as<double>(),
      static_cast<unsigned long long>(status.api_calls),
      1000.0 * status.api_calls / std::max(1, total));
}

}  // namespace

int main(int argc, char** argv) {
  log::configure(log::level::warn, log::format::kv);
  const int seconds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 30;
  calls_per_thousand();
  replication_lag(seconds, crm::crm_options{}.send_interval);  // the default
  replication_lag(seconds, std::chrono::milliseconds(0));      // lowest latency
  return 0;
}
