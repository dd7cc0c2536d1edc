// The connection pool against a real server: an idle connection the server
// closed is never handed out, so a borrower's first statement works.
#include <catch2/catch.hpp>

#include <pqxx/pqxx>
#include <thread>

#include "reelfarm/store/pg_pool.hpp"
#include "reelfarm/testing/services.hpp"

using namespace reelfarm;
using namespace std::chrono_literals;

namespace {

int backend_pid(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  return tx.exec1("SELECT pg_backend_pid()")[0].as<int>();
}

/// Terminates `pid` and waits until the server has closed it.
void terminate_and_wait(const std::string& dsn, int pid) {
  pqxx::connection admin(dsn);
  pqxx::nontransaction tx(admin);
  REQUIRE(tx.exec_params1("SELECT pg_terminate_backend($1)", pid)[0].as<bool>());
  for (int i = 0; i < 500; ++i) {
    if (tx.exec_params1("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)[0].as<int>() ==
        0) {
      return;
    }
    std::this_thread::sleep_for(10ms);
  }
  FAIL("backend " << pid << " was still listed 5 s after pg_terminate_backend");
}

}  // namespace

TEST_CASE("an idle connection the server closed is not handed out", "[pg_pool]") {
  testing::scratch_database db;
  pg_pool pool(db.dsn(), 2);
  int first_pid = 0;
  {
    auto lease = pool.acquire();
    REQUIRE(lease);
    first_pid = backend_pid(**lease);
  }
  terminate_and_wait(db.dsn(), first_pid);

  auto lease = pool.acquire();
  REQUIRE(lease);
  int second_pid = 0;
  REQUIRE_NOTHROW(second_pid = backend_pid(**lease));  // no broken_connection
  CHECK(second_pid != first_pid);
}

TEST_CASE("a live idle connection is reused", "[pg_pool]") {
  testing::scratch_database db;
  pg_pool pool(db.dsn(), 2);
  int first_pid = 0;
  {
    auto lease = pool.acquire();
    REQUIRE(lease);
    first_pid = backend_pid(**lease);
  }
  auto lease = pool.acquire();
  REQUIRE(lease);
  CHECK(backend_pid(**lease) == first_pid);
}
