#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "reelfarm/store/account_repository.hpp"
#include "reelfarm/store/balance_cache.hpp"
#include "reelfarm/store/credit_ledger.hpp"
#include "reelfarm/store/pg_pool.hpp"
#include "reelfarm/testing/services.hpp"

namespace reelfarm::testing {

/// Argon2id cheap enough for tests.
inline password_cost cheap_password_cost() {
  return {1, 8u << 20};
}

/// A migrated scratch database with a ledger and accounts on it.
struct ledger_env {
  explicit ledger_env(std::string redis_url = test_services().redis_url, std::size_t pool_size = 4)
      : pool(db.dsn(), pool_size),
        cache(std::make_unique<balance_cache>(std::move(redis_url))),
        ledger(pool, plan_catalog::defaults(), cache.get()),
        accounts(pool, plan_catalog::defaults(), cheap_password_cost()) {}

  /// A new user on the default plan (3 credits); fails the test otherwise.
  std::string user(const std::string& name) {
    auto made = accounts.create({name + "@example.com", "pw-" + name, name, "creator"});
    if (!made) {
      throw std::runtime_error(made.error().full_text());
    }
    return made->id;
  }

  /// Runs SQL on a connection of its own.
  pqxx::result sql(const std::string& query) {
    pqxx::connection conn(db.dsn());
    pqxx::work tx(conn);
    auto r = tx.exec(query);
    tx.commit();
    return r;
  }

  scratch_database db;
  pg_pool pool;
  std::unique_ptr<balance_cache> cache;
  credit_ledger ledger;
  account_repository accounts;
};

}  // namespace reelfarm::testing
