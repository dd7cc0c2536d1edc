#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "reelfarm/testing/services.hpp"
#include "run_reelfarm.hpp"

using namespace reelfarm::testing;

TEST_CASE("ctl crm backfill enqueues every record and status shows the backlog", "[ctl]") {
  scratch_database db;
  {
    pqxx::connection conn(db.dsn());
    pqxx::work tx(conn);
    tx.exec0("INSERT INTO users (email, password_hash) VALUES ('crm@example.com', 'x')");
    tx.exec0("DELETE FROM crm_outbox");  // as if the sync had sent the trigger's row already
    tx.commit();
  }
  auto dsn = "postgres.dsn=" + db.dsn();
  auto backfill = run_reelfarm({"--set", dsn, "ctl", "crm", "backfill"});
  INFO(backfill.output);
  CHECK(backfill.status == 0);
  CHECK_THAT(backfill.output, Catch::Contains("enqueued 1 records"));
  auto status = run_reelfarm({"--set", dsn, "ctl", "crm", "status"});
  INFO(status.output);
  CHECK(status.status == 0);
  CHECK_THAT(status.output, Catch::Contains("outbox pending      1"));
}

TEST_CASE("ctl crm explains a bad command line and a missing farm", "[ctl]") {
  CHECK(run_reelfarm({"ctl", "crm", "frobnicate"}).status == 2);
  CHECK(run_reelfarm({"ctl", "crm", "retry", "abc"}).status == 2);
  temp_dir empty;
  auto missing = run_reelfarm({"--data-dir", empty.path().string(), "ctl", "crm", "status"});
  CHECK(missing.status == 1);
  CHECK_THAT(missing.output, Catch::Contains("no running farm found"));
}
