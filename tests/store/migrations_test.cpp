#include <catch2/catch.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/migrations.hpp"
#include "reelfarm/testing/services.hpp"

using namespace reelfarm;

namespace {

std::vector<migration> sample(std::vector<std::pair<std::string_view, std::string_view>> files) {
  auto made = make_migrations(files);
  REQUIRE(made);
  return std::move(made).value();
}

}  // namespace

TEST_CASE("migrations apply once and record their versions", "[migrations]") {
  testing::scratch_database db(false);
  pqxx::connection conn(db.dsn());
  CHECK(*schema_version(conn) == 0);
  auto report = migrate(conn, bundled_migrations());
  REQUIRE(report);
  CHECK(report->from_version == 0);
  CHECK(report->to_version == bundled_migrations().back().version);
  CHECK(report->applied.size() == bundled_migrations().size());
  CHECK(*schema_version(conn) == report->to_version);

  auto again = migrate(conn, bundled_migrations());
  REQUIRE(again);
  CHECK(again->applied.empty());
  CHECK(again->from_version == again->to_version);
}

TEST_CASE("concurrent start-ups apply each migration exactly once", "[migrations]") {
  testing::scratch_database db(false);
  auto set = sample({{"0001_a.sql", "CREATE TABLE a (x int)"},
                     {"0002_b.sql", "INSERT INTO a VALUES (1); SELECT pg_sleep(0.2)"}});
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::atomic<int> applied{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      pqxx::connection conn(db.dsn());
      auto r = migrate(conn, set);
      if (!r) {
        ++failures;
      } else {
        applied += static_cast<int>(r->applied.size());
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(failures == 0);
  CHECK(applied == 2);
  pqxx::connection conn(db.dsn());
  pqxx::read_transaction tx(conn);
  CHECK(tx.exec1("SELECT count(*) FROM a")[0].as<int>() == 1);
}

TEST_CASE("a database newer than the binary is refused", "[migrations]") {
  testing::scratch_database db(false);
  pqxx::connection conn(db.dsn());
  REQUIRE(migrate(conn, sample({{"0001_a.sql", "SELECT 1"}, {"0002_b.sql", "SELECT 2"}})));
  auto older = migrate(conn, sample({{"0001_a.sql", "SELECT 1"}}));
  REQUIRE_FALSE(older);
  CHECK(older.error().is(store_errc::migration_newer));
  CHECK_THAT(older.error().message(), Catch::Contains("version 2") && Catch::Contains("(1)"));
}

TEST_CASE("an applied migration that was edited is refused", "[migrations]") {
  testing::scratch_database db(false);
  pqxx::connection conn(db.dsn());
  REQUIRE(migrate(conn, sample({{"0001_a.sql", "SELECT 1"}})));
  auto edited = migrate(conn, sample({{"0001_a.sql", "SELECT 42"}}));
  REQUIRE_FALSE(edited);
  CHECK(edited.error().is(store_errc::migration_changed));
}

TEST_CASE("a failing migration applies nothing", "[migrations]") {
  testing::scratch_database db(false);
  pqxx::connection conn(db.dsn());
  auto r = migrate(conn, sample({{"0001_a.sql", "CREATE TABLE a (x int)"},
                                 {"0002_bad.sql", "CREATE TABLE b (x no_such_type)"}}));
  REQUIRE_FALSE(r);
  CHECK(r.error().is(store_errc::migration_failed));
  CHECK_THAT(r.error().message(), Catch::Contains("0002_bad") && Catch::Contains("no_such_type"));
  pqxx::read_transaction tx(conn);
  CHECK(tx.exec1("SELECT to_regclass('public.a') IS NULL")[0].as<bool>());
}

TEST_CASE("the foundation schema enforces its rules", "[migrations]") {
  testing::scratch_database db;
  pqxx::connection conn(db.dsn());
  pqxx::work tx(conn);
  tx.exec0("INSERT INTO users (email, password_hash) VALUES ('Alice@Example.com', 'x')");
  // Emails are unique regardless of case.
  CHECK_THROWS_AS(
      tx.exec0("INSERT INTO users (email, password_hash) VALUES ('alice@example.com', 'y')"),
      pqxx::unique_violation);
}
