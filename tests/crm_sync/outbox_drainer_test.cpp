// The outbox drainer against the real PostgreSQL and the local Salesforce.
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "reelfarm/common/process.hpp"
#include "reelfarm/crm_sync/crm_admin.hpp"
#include "reelfarm/crm_sync/crm_sync_runner.hpp"
#include "reelfarm/crm_sync/outbox_drainer.hpp"
#include "reelfarm/store/outbox.hpp"
#include "reelfarm/testing/services.hpp"
#include "support/farm_changes.hpp"
#include "support/local_salesforce.hpp"
#include "support/mirror_check.hpp"

using namespace reelfarm;
using nlohmann::json;
using testing::farm_changes;
using testing::local_salesforce;
using testing::scratch_database;

namespace {

/// Drains until the outbox has nothing due (at most `passes` passes).
crm::drain_report drain_all(crm::outbox_drainer& drainer, int passes = 50) {
  crm::drain_report total;
  for (int i = 0; i < passes; ++i) {
    auto r = drainer.drain_once();
    REQUIRE(r);
    total.calls += r->calls;
    total.records_done += r->records_done;
    total.dead_lettered += r->dead_lettered;
    total.used_bulk = total.used_bulk || r->used_bulk;
    if (r->claimed_rows == 0) {
      break;
    }
  }
  return total;
}

long long scalar(pqxx::connection& conn, const std::string& sql) {
  pqxx::read_transaction tx(conn);
  return tx.exec1(sql)[0].as<long long>();
}

}  // namespace

TEST_CASE("triggers enqueue every mirrored change in the writer's transaction", "[crm][drainer]") {
  scratch_database db;
  farm_changes farm(db.dsn());
  auto user = farm.add_user("Ada Lovelace");
  CHECK(scalar(farm.connection(), "SELECT count(*) FROM crm_outbox WHERE aggregate = 'Contact'") >=
        1);
  CHECK(scalar(farm.connection(),
               "SELECT count(*) FROM crm_outbox WHERE aggregate = 'AI_Credit__c'") == 1);
  {  // a rolled-back change leaves no outbox row
    pqxx::work tx(farm.connection());
    tx.exec_params("UPDATE users SET plan = 'pro' WHERE id = $1::uuid", user);
    tx.abort();
  }
  const auto before = scalar(farm.connection(), "SELECT count(*) FROM crm_outbox");
  {  // logins are not mirrored
    pqxx::work tx(farm.connection());
    tx.exec_params("UPDATE users SET last_login_at = now() WHERE id = $1::uuid", user);
    tx.commit();
  }
  CHECK(scalar(farm.connection(), "SELECT count(*) FROM crm_outbox") == before);
  {  // the writer API, inside the caller's transaction
    pqxx::work tx(farm.connection());
    enqueue_outbox(tx, {outbox_aggregate::contact, user, R"({"note": "manual"})"});
    tx.commit();
  }
  CHECK(scalar(farm.connection(), "SELECT count(*) FROM crm_outbox") == before + 1);
}

TEST_CASE("a drain pass mirrors users, projects, credits and uploads, coalesced, parents first",
          "[crm][drainer]") {
  scratch_database db;
  local_salesforce sf;
  farm_changes farm(db.dsn());
  auto ada = farm.add_user("Ada King Lovelace", "pro");
  auto grace = farm.add_user("Grace");
  auto film = farm.add_project(ada, "Engines");
  for (const char* s : {"processing", "complete"}) {
    farm.set_project_status(film, s);
  }
  farm.grant(ada, 10, "top-up");
  farm.charge(ada, "job-1", 3, false);
  farm.charge(ada, "job-2", 3, true);
  for (int i = 0; i < 10; ++i) {
    farm.grant(grace, 1, "g" + std::to_string(i));
  }
  farm.add_upload(ada, film, "complete");

  pqxx::connection conn(db.dsn());
  crm::salesforce_client client(sf.options());
  crm::outbox_drainer drainer(conn, client, sf.options());
  auto report = drain_all(drainer);
  CHECK(report.dead_lettered == 0);
  // 2 users + 1 project + 16 credit rows + 1 upload, each sent once although
  // Grace's Contact changed 11 times: one call per object.
  CHECK(report.records_done == 20);
  CHECK(report.calls == 4);
  CHECK(scalar(conn, "SELECT count(*) FROM crm_outbox WHERE done_at IS NULL") == 0);

  std::size_t compared = 0;
  auto diffs = testing::mirror_differences(db.dsn(), client, &compared);
  for (const auto& d : diffs) {
    UNSCOPED_INFO(d);
  }
  CHECK(diffs.empty());
  CHECK(compared == 20);
  auto contact = client.get("sobjects/Contact/Farm_Id__c/" + ada);
  REQUIRE(contact);
  CHECK((*contact)["FirstName"] == "Ada");
  CHECK((*contact)["LastName"] == "King Lovelace");
  CHECK((*contact)["Subscription_Tier__c"] == "Pro");
  CHECK((*contact)["Last_Video_Generation_Date__c"].is_string());
  auto refunds = client.query("SELECT Id FROM AI_Credit__c WHERE Transaction_Type__c = 'Refund'");
  REQUIRE(refunds);
  CHECK(refunds->size() == 1);

  // A client that is not ours reads the same records, when one is installed
  // (REELFARM_JSFORCE_NODE_PATH=/path/to/node_modules; see the script).
  if (const char* node_path = std::getenv("REELFARM_JSFORCE_NODE_PATH")) {
    testing::temp_dir out;
    process_options run;
    run.argv = {
        "/usr/bin/env",
        std::string("NODE_PATH=") + node_path,
        "node",
        std::string(REELFARM_SOURCE_DIR) + "/tests/crm_sync/third_party/read_with_jsforce.js",
        sf.url(),
        local_salesforce::client_id,
        local_salesforce::client_secret};
    run.output_file = (out.path() / "jsforce.out").string();
    auto status = run_program(run, std::chrono::seconds(60));
    REQUIRE(status);
    CHECK(*status == 0);
    std::ifstream lines(run.output_file);
    std::map<std::string, int> counts;
    for (std::string line; std::getline(lines, line);) {
      auto j = json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("object")) {
        counts[j["object"]] = j["count"];
      }
    }
    CHECK(counts["Contact"] == 2);
    CHECK(counts["AI_Project__c"] == 1);
    CHECK(counts["AI_Credit__c"] == 16);
    CHECK(counts["YouTube_Integration__c"] == 1);
  }
}

TEST_CASE("refused records go to the dead-letter table with Salesforce's message and retry",
          "[crm][drainer]") {
  scratch_database db;
  local_salesforce sf;
  farm_changes farm(db.dsn());
  auto ada = farm.add_user("Ada");
  auto ok_film = farm.add_project(ada, "Fine");
  auto bad_film = farm.add_project(ada, "Broken");
  // Schema drift: the farm has a status Salesforce's picklist does not know.
  // Simulated by a view that maps "Broken" projects to an unknown value.
  pqxx::connection conn(db.dsn());
  {
    pqxx::work tx(conn);
    tx.exec(
        "CREATE OR REPLACE VIEW crm_project_records AS "
        "SELECT p.id::text AS record_key, jsonb_build_object('Farm_Id__c', p.id::text, 'Name', "
        "p.title, 'User__r', jsonb_build_object('Farm_Id__c', p.user_id::text), 'Status__c', "
        "CASE WHEN p.title = 'Broken' THEN 'Rendering' ELSE 'Draft' END) AS payload FROM projects "
        "p");
    tx.commit();
  }
  crm::salesforce_client client(sf.options());
  crm::outbox_drainer drainer(conn, client, sf.options());
  auto report = drain_all(drainer);
  CHECK(report.dead_lettered == 1);
  auto letters = crm::list_dead_letters(conn);
  REQUIRE(letters);
  REQUIRE(letters->size() == 1);
  CHECK((*letters)[0].record_key == bad_film);
  CHECK((*letters)[0].status_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
  CHECK((*letters)[0].message == "Status: bad value for restricted picklist field: Rendering");
  CHECK(client.get("sobjects/AI_Project__c/Farm_Id__c/" + ok_film));
  auto backlog = crm::read_backlog(conn);
  REQUIRE(backlog);
  CHECK(backlog->pending == 0);
  CHECK(backlog->dead_letters_open == 1);

  {  // fixed at the source; the admin retries
    pqxx::work tx(conn);
    tx.exec("UPDATE projects SET title = 'Repaired' WHERE title = 'Broken'");
    tx.commit();
  }
  auto retried = crm::retry_dead_letters(conn);
  REQUIRE(retried);
  CHECK(*retried == 1);
  drain_all(drainer);
  auto fixed = client.get("sobjects/AI_Project__c/Farm_Id__c/" + bad_film);
  REQUIRE(fixed);
  CHECK((*fixed)["Name"] == "Repaired");
  CHECK(crm::read_backlog(conn)->dead_letters_open == 0);
}

TEST_CASE("transient failures keep rows pending until Salesforce accepts them", "[crm][drainer]") {
  scratch_database db;
  local_salesforce sf;
  farm_changes farm(db.dsn());
  auto ada = farm.add_user("Ada");
  farm.add_project(ada, "One");
  pqxx::connection conn(db.dsn());
  crm::salesforce_client client(sf.options());
  auto options = sf.options();
  options.backoff_base = std::chrono::milliseconds(1);
  options.backoff_cap = std::chrono::milliseconds(2);
  crm::outbox_drainer drainer(conn, client, options);
  sf.admin("faults", {{"queue", {{{"kind", "unavailable"}}}}});
  auto first = drainer.drain_once();
  REQUIRE(first);
  REQUIRE(first->stopped_by);
  CHECK(first->records_done == 0);
  CHECK(scalar(conn, "SELECT count(*) FROM crm_outbox WHERE done_at IS NULL AND attempts = 1") ==
        scalar(conn, "SELECT count(*) FROM crm_outbox"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  sf.admin("faults", {{"random", {{"rate", 0.0}, {"kinds", {"lock_row"}}, {"lock_rate", 0.5}}}});
  drain_all(drainer, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  sf.admin("faults", {{"random", nullptr}});
  for (int i = 0; i < 20 && scalar(conn, "SELECT count(*) FROM crm_outbox WHERE done_at IS NULL");
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    drain_all(drainer);
  }
  CHECK(scalar(conn, "SELECT count(*) FROM crm_outbox WHERE done_at IS NULL") == 0);
  CHECK(testing::mirror_differences(db.dsn(), client).empty());
}

TEST_CASE("a backfill above the threshold goes through Bulk API 2.0", "[crm][drainer]") {
  scratch_database db;
  local_salesforce sf;
  pqxx::connection conn(db.dsn());
  {
    pqxx::work tx(conn);
    tx.exec(
        "INSERT INTO users (email, password_hash, full_name) "
        "SELECT 'u' || g || '@example.com', 'x', 'User ' || g FROM generate_series(1, 300) g");
    tx.exec("UPDATE crm_outbox SET done_at = now()");  // as if mirrored long ago
    tx.commit();
  }
  auto enqueued = crm::enqueue_backfill(conn);
  REQUIRE(enqueued);
  CHECK(*enqueued == 300);
  auto options = sf.options();
  options.bulk_threshold = 100;
  crm::salesforce_client client(options);
  crm::outbox_drainer drainer(conn, client, options);
  auto report = drain_all(drainer);
  CHECK(report.used_bulk);
  CHECK(report.records_done == 300);
  CHECK(report.calls <= 10);
  CHECK(sf.stats()["bulk_jobs"] == 1);
  CHECK(testing::mirror_differences(db.dsn(), client).empty());
}

TEST_CASE("two runners share the outbox without sending a record twice at once", "[crm][drainer]") {
  scratch_database db;
  local_salesforce sf;
  farm_changes farm(db.dsn());
  std::vector<std::string> users;
  for (int i = 0; i < 20; ++i) {
    users.push_back(farm.add_user("User " + std::to_string(i)));
  }
  auto options = sf.options();
  options.batch_size = 5;
  crm::crm_sync_runner a(db.dsn(), options);
  crm::crm_sync_runner b(db.dsn(), options);
  REQUIRE(a.start());
  REQUIRE(b.start());
  for (int i = 0; i < 100; ++i) {
    farm.grant(users[i % users.size()], 1, "k" + std::to_string(i));
  }
  pqxx::connection conn(db.dsn());
  for (int i = 0; i < 300 && scalar(conn, "SELECT count(*) FROM crm_outbox WHERE done_at IS NULL");
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  a.stop();
  b.stop();
  CHECK(scalar(conn, "SELECT count(*) FROM crm_outbox WHERE done_at IS NULL") == 0);
  CHECK(a.status().records_done + b.status().records_done >= 20);
  crm::salesforce_client client(sf.options());
  auto diffs = testing::mirror_differences(db.dsn(), client);
  CHECK(diffs.empty());
}
