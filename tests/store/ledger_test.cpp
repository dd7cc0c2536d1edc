#include <catch2/catch.hpp>

#include "ledger_fixture.hpp"
#include "reelfarm/store/errc.hpp"

using namespace reelfarm;

namespace {

std::int64_t db_balance(testing::ledger_env& env, const std::string& user) {
  return env.sql("SELECT credits_balance FROM users WHERE id = '" + user + "'")[0][0]
      .as<std::int64_t>();
}

int rows(testing::ledger_env& env, const std::string& where = "true") {
  return env.sql("SELECT count(*) FROM credit_transactions WHERE " + where)[0][0].as<int>();
}

void require_consistent(testing::ledger_env& env) {
  auto audit = env.ledger.audit();
  REQUIRE(audit);
  for (const auto& p : audit->problems) {
    UNSCOPED_INFO(p);
  }
  CHECK(audit->consistent());
}

}  // namespace

TEST_CASE("grants and purchases add credits once per key", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("g");
  auto granted = env.ledger.grant(u, 10, "support gesture", "grant-1");
  REQUIRE(granted);
  CHECK(granted->kind == credit_kind::grant);
  CHECK(granted->balance_after == 13);
  CHECK_FALSE(granted->replayed);

  auto retried = env.ledger.grant(u, 10, "support gesture", "grant-1");
  REQUIRE(retried);
  CHECK(retried->replayed);
  CHECK(retried->id == granted->id);
  CHECK(retried->balance_after == 13);

  auto misuse = env.ledger.grant(u, 11, "other", "grant-1");
  REQUIRE_FALSE(misuse);
  CHECK(misuse.error().is(store_errc::conflict));

  auto bought = env.ledger.purchase(u, 30, "pay_123", "top-up", "buy-1");
  REQUIRE(bought);
  CHECK(bought->kind == credit_kind::purchase);
  CHECK(bought->payment_ref == "pay_123");
  CHECK(bought->balance_after == 43);
  // The same payment under another key is still credited once.
  auto same_payment = env.ledger.purchase(u, 30, "pay_123", "top-up", "buy-2");
  REQUIRE(same_payment);
  CHECK(same_payment->replayed);
  CHECK(db_balance(env, u) == 43);

  CHECK(env.ledger.grant(u, 0, "", "zero").error().is(store_errc::invalid_argument));
  CHECK(env.ledger.grant(u, -5, "", "neg").error().is(store_errc::invalid_argument));
  CHECK(env.ledger.grant(u, 5, "", "").error().is(store_errc::invalid_argument));
  CHECK(env.ledger.purchase(u, 5, "", "", "k").error().is(store_errc::invalid_argument));
  CHECK(env.ledger.grant("00000000-0000-0000-0000-000000000000", 5, "", "k")
            .error()
            .is(store_errc::not_found));
  CHECK(*env.ledger.balance(u) == 43);
  require_consistent(env);
}

TEST_CASE("a charge at render start deducts once per job", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("c");
  REQUIRE(env.ledger.grant(u, 12, "", "g"));
  auto charged = env.ledger.charge(u, "job-1", 9, "render of project x", "charge:job-1");
  REQUIRE(charged);
  CHECK(charged->kind == credit_kind::deduction);
  CHECK(charged->amount == 9);
  CHECK(charged->delta == -9);
  CHECK(charged->balance_after == 6);
  CHECK(charged->job_id == "job-1");

  auto same_key = env.ledger.charge(u, "job-1", 9, "", "charge:job-1");
  REQUIRE(same_key);
  CHECK(same_key->replayed);
  CHECK(same_key->id == charged->id);
  // Another key for the same job: still one deduction.
  auto other_key = env.ledger.charge(u, "job-1", 9, "", "charge:job-1:again");
  REQUIRE(other_key);
  CHECK(other_key->replayed);
  CHECK(other_key->id == charged->id);
  auto other_amount = env.ledger.charge(u, "job-1", 3, "", "charge:job-1:cheaper");
  REQUIRE_FALSE(other_amount);
  CHECK(other_amount.error().is(store_errc::conflict));
  CHECK(rows(env, "kind = 'deduction'") == 1);
  CHECK(db_balance(env, u) == 6);
  require_consistent(env);
}

TEST_CASE("an insufficient balance is a clear error that leaves nothing behind", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("poor");
  auto before = rows(env);
  auto refused = env.ledger.charge(u, "job-big", 15, "5 minute film", "charge:job-big");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(store_errc::insufficient_credits));
  CHECK_THAT(refused.error().message(),
             Catch::Contains("needs 15") && Catch::Contains("balance is 3"));
  CHECK(rows(env) == before);
  CHECK(db_balance(env, u) == 3);
  // Once topped up, the same key works: nothing was recorded under it.
  REQUIRE(env.ledger.purchase(u, 20, "pay_1", "", "buy"));
  auto charged = env.ledger.charge(u, "job-big", 15, "5 minute film", "charge:job-big");
  REQUIRE(charged);
  CHECK(charged->balance_after == 8);
  require_consistent(env);
}

TEST_CASE("a failed job is refunded in full, once, and only if it was charged", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("r");
  auto never = env.ledger.refund(u, "job-never", "failed", "refund:job-never");
  REQUIRE_FALSE(never);
  CHECK(never.error().is(store_errc::not_found));

  auto charged = env.ledger.charge(u, "job-2", 3, "", "charge:job-2");
  REQUIRE(charged);
  CHECK(charged->balance_after == 0);
  auto refunded = env.ledger.refund(u, "job-2", "render failed", "refund:job-2");
  REQUIRE(refunded);
  CHECK(refunded->kind == credit_kind::refund);
  CHECK(refunded->amount == 3);
  CHECK(refunded->balance_after == 3);
  CHECK(refunded->refund_of == charged->id);
  auto again = env.ledger.refund(u, "job-2", "render failed", "refund:job-2:bis");
  REQUIRE(again);
  CHECK(again->replayed);
  CHECK(again->id == refunded->id);
  CHECK(db_balance(env, u) == 3);
  CHECK(*env.ledger.charge_state("job-2") == job_charge_state::refunded);

  // Another user cannot refund someone else's job.
  auto v = env.user("other");
  auto theirs = env.ledger.refund(v, "job-2", "", "refund:steal");
  REQUIRE_FALSE(theirs);
  CHECK(theirs.error().is(store_errc::conflict));
  require_consistent(env);
}

TEST_CASE("cancel rules: free before start, no refund after", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("x");
  CHECK(*env.ledger.charge_state("early") == job_charge_state::not_charged);
  auto early = env.ledger.cancel(u, "early");
  REQUIRE(early);
  CHECK(*early == cancel_outcome::nothing_charged);
  CHECK(*env.ledger.cancel(u, "early") == cancel_outcome::nothing_charged);
  auto late_charge = env.ledger.charge(u, "early", 3, "", "charge:early");
  REQUIRE_FALSE(late_charge);
  CHECK(late_charge.error().is(store_errc::job_cancelled));
  CHECK(*env.ledger.charge_state("early") == job_charge_state::cancelled_before_start);
  CHECK(db_balance(env, u) == 3);

  REQUIRE(env.ledger.charge(u, "late", 3, "", "charge:late"));
  CHECK(*env.ledger.charge_state("late") == job_charge_state::charged);
  CHECK(*env.ledger.cancel(u, "late") == cancel_outcome::charge_kept);
  auto refund = env.ledger.refund(u, "late", "", "refund:late");
  REQUIRE_FALSE(refund);
  CHECK(refund.error().is(store_errc::job_cancelled));
  CHECK(*env.ledger.charge_state("late") == job_charge_state::cancelled_after_start);
  CHECK(db_balance(env, u) == 0);
  require_consistent(env);
}

TEST_CASE("the monthly reset is due once per renewal date", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("m");
  REQUIRE(env.ledger.charge(u, "j", 3, "", "charge:j"));
  env.sql("UPDATE users SET credits_reset_date = date '2030-01-31', credits_renewal_day = 31");
  using namespace std::chrono;
  sys_days before = year{2030} / January / 30;
  sys_days due = year{2030} / February / 1;
  CHECK_FALSE(*env.ledger.reset_if_due(u, before));

  auto reset = env.ledger.reset_if_due(u, due);
  REQUIRE(reset);
  REQUIRE(reset->has_value());
  CHECK((*reset)->kind == credit_kind::reset);
  CHECK((*reset)->amount == 3);
  CHECK((*reset)->balance_after == 3);
  auto twice = env.ledger.reset_if_due(u, due);
  REQUIRE(twice);
  CHECK_FALSE(twice->has_value());
  CHECK(rows(env, "kind = 'reset'") == 1);
  // The next renewal is a month after the previous one, not after today.
  CHECK(env.sql("SELECT credits_reset_date::text FROM users")[0][0].as<std::string>() ==
        "2030-02-28");

  // Unused and purchased credits are not taken away.
  REQUIRE(env.ledger.purchase(u, 50, "pay", "", "buy"));
  sys_days next = year{2030} / March / 1;
  CHECK_FALSE(*env.ledger.reset_if_due(u, next));
  CHECK(db_balance(env, u) == 53);
  CHECK(env.sql("SELECT credits_reset_date::text FROM users")[0][0].as<std::string>() ==
        "2030-03-31");
  require_consistent(env);
}

TEST_CASE("reset_all_due renews every due user and is safe to run twice", "[ledger]") {
  testing::ledger_env env;
  std::vector<std::string> users;
  for (int i = 0; i < 5; ++i) {
    users.push_back(env.user("u" + std::to_string(i)));
    REQUIRE(
        env.ledger.charge(users.back(), "j" + std::to_string(i), 3, "", "c" + std::to_string(i)));
  }
  env.sql("UPDATE users SET credits_reset_date = date '2031-05-01'");
  env.sql("UPDATE users SET credits_reset_date = date '2031-07-01' WHERE id = '" + users[0] + "'");
  using namespace std::chrono;
  sys_days today = year{2031} / May / 2;
  auto first = env.ledger.reset_all_due(today);
  REQUIRE(first);
  CHECK(*first == 4);
  auto second = env.ledger.reset_all_due(today);
  REQUIRE(second);
  CHECK(*second == 0);
  CHECK(rows(env, "kind = 'reset'") == 4);
  CHECK(db_balance(env, users[0]) == 0);
  CHECK(db_balance(env, users[1]) == 3);
  require_consistent(env);
}

TEST_CASE("plan upgrades grant the difference, downgrades take nothing", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("p");
  auto up = env.ledger.change_plan(u, "pro", "upgrade-1");
  REQUIRE(up);
  CHECK(up->changed);
  CHECK(up->from == "free");
  CHECK(up->to == "pro");
  REQUIRE(up->grant);
  CHECK(up->grant->amount == 97);
  CHECK(db_balance(env, u) == 100);
  auto retry = env.ledger.change_plan(u, "pro", "upgrade-1");
  REQUIRE(retry);
  REQUIRE(retry->grant);
  CHECK(retry->grant->id == up->grant->id);
  CHECK(db_balance(env, u) == 100);

  auto down = env.ledger.change_plan(u, "standard", "down-1");
  REQUIRE(down);
  CHECK(down->changed);
  CHECK_FALSE(down->grant);
  CHECK(db_balance(env, u) == 100);
  CHECK(env.accounts.get(u)->plan == "standard");

  auto bogus = env.ledger.change_plan(u, "platinum", "x");
  REQUIRE_FALSE(bogus);
  CHECK(bogus.error().is(store_errc::not_found));
  require_consistent(env);
}

TEST_CASE("unlimited plans record charges without moving the balance", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("e");
  REQUIRE(env.ledger.change_plan(u, "enterprise", "ent"));
  CHECK(env.accounts.get(u)->credits_unlimited);
  for (int i = 0; i < 3; ++i) {
    auto job = "ent-" + std::to_string(i);
    auto c = env.ledger.charge(u, job, 150, "long film", "charge:" + job);
    REQUIRE(c);
    CHECK(c->amount == 150);
    CHECK(c->delta == 0);
    CHECK(c->balance_after == 3);
  }
  auto r = env.ledger.refund(u, "ent-0", "failed", "refund:ent-0");
  REQUIRE(r);
  CHECK(r->delta == 0);
  CHECK(r->amount == 150);
  CHECK(db_balance(env, u) == 3);
  // The monthly reset leaves unlimited balances alone.
  env.sql("UPDATE users SET credits_reset_date = date '2030-01-01'");
  using namespace std::chrono;
  CHECK_FALSE(*env.ledger.reset_if_due(u, sys_days(year{2030} / January / 2)));
  // Back on a limited plan, the balance counts again.
  REQUIRE(env.ledger.change_plan(u, "free", "back"));
  CHECK(env.ledger.charge(u, "after", 6, "", "charge:after")
            .error()
            .is(store_errc::insufficient_credits));
  require_consistent(env);
}

TEST_CASE("the database refuses what the ledger must never do", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("d");
  REQUIRE(env.ledger.charge(u, "job-d", 3, "", "charge:job-d"));
  auto refused = [&](const std::string& statement) {
    try {
      env.sql(statement);
      return false;
    } catch (const pqxx::sql_error&) {
      return true;
    }
  };
  CHECK(refused("UPDATE users SET credits_balance = -1"));
  CHECK(refused("UPDATE credit_transactions SET amount = 1"));
  CHECK(refused("DELETE FROM credit_transactions"));
  CHECK(refused("TRUNCATE credit_transactions CASCADE"));
  // A second deduction for the job, even written by hand.
  CHECK(
      refused("INSERT INTO credit_transactions (user_id, kind, amount, delta, balance_after, "
              "job_id, idempotency_key) VALUES ('" +
              u + "', 'deduction', 3, -3, 0, 'job-d', 'by-hand')"));
  // A refund that names no deduction, or one of a different amount.
  CHECK(
      refused("INSERT INTO credit_transactions (user_id, kind, amount, delta, balance_after, "
              "job_id, idempotency_key) VALUES ('" +
              u + "', 'refund', 3, 3, 3, 'job-d', 'r')"));
  CHECK(
      refused("INSERT INTO credit_transactions (user_id, kind, amount, delta, balance_after, "
              "job_id, refund_of, idempotency_key) SELECT user_id, 'refund', 5, 5, 5, job_id, id,"
              " 'r' FROM credit_transactions WHERE kind = 'deduction'"));
  CHECK(
      refused("INSERT INTO credit_transactions (user_id, kind, amount, delta, balance_after, "
              "idempotency_key) VALUES ('" +
              u + "', 'grant', 0, 0, 0, 'zero')"));
  require_consistent(env);
}

TEST_CASE("the audit finds a balance that does not match its transactions", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("t");
  require_consistent(env);
  env.sql("UPDATE users SET credits_balance = 7");
  auto audit = env.ledger.audit();
  REQUIRE(audit);
  REQUIRE_FALSE(audit->consistent());
  CHECK_THAT(audit->problems.front(), Catch::Contains("balance 7") && Catch::Contains("sum to 3"));
}

TEST_CASE("the Redis cache follows every change and is never the authority", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("cache");
  CHECK(*env.ledger.balance(u) == 3);
  auto cached = env.cache->get(u);
  REQUIRE(cached);
  CHECK(cached->balance == 3);
  REQUIRE(env.ledger.grant(u, 4, "", "g"));
  CHECK(env.cache->get(u)->balance == 7);
  // A slow reader's older figure cannot replace a newer one.
  env.cache->put(u, {3, 1});
  CHECK(env.cache->get(u)->balance == 7);
  auto ttl = redis_client::connect(testing::test_services().redis_url, std::chrono::seconds(2))
                 ->command({"TTL", balance_cache::key_for(u)});
  REQUIRE(ttl);
  CHECK(std::stoi(*ttl) > 0);
  CHECK(std::stoi(*ttl) <= 300);
  CHECK(env.cache->invalidate(u));
  CHECK_FALSE(env.cache->get(u));
  CHECK(*env.ledger.balance(u) == 7);
}

TEST_CASE("every operation works with Redis down", "[ledger]") {
  // Nothing listens on port 1: the cache fails fast on every call.
  testing::ledger_env env("redis://127.0.0.1:1");
  auto u = env.user("nored");
  REQUIRE(env.ledger.grant(u, 10, "", "g"));
  REQUIRE(env.ledger.charge(u, "j", 6, "", "c"));
  REQUIRE(env.ledger.refund(u, "j", "", "r"));
  REQUIRE(env.ledger.charge(u, "j2", 3, "", "c2"));
  REQUIRE(env.ledger.change_plan(u, "standard", "p"));
  auto balance = env.ledger.balance(u);
  REQUIRE(balance);
  CHECK(*balance == 3 + 10 - 3 + 27);
  CHECK(*balance == db_balance(env, u));
  require_consistent(env);
}

TEST_CASE("the charge composes with the caller's own transaction", "[ledger]") {
  testing::ledger_env env;
  auto u = env.user("tx");
  pqxx::connection conn(env.db.dsn());
  {
    pqxx::work tx(conn);
    auto e = credit_ledger::charge_in(tx, u, "job-tx", 3, "", "charge:job-tx");
    CHECK(e.balance_after == 0);
    // No commit: the charge goes with the caller's rollback.
  }
  CHECK(db_balance(env, u) == 3);
  {
    pqxx::work tx(conn);
    try {
      credit_ledger::charge_in(tx, u, "job-tx2", 30, "", "charge:job-tx2");
      FAIL("expected insufficient credits");
    } catch (const std::exception& e) {
      CHECK(credit_ledger::ledger_error_from(e).is(store_errc::insufficient_credits));
    }
  }
  {
    pqxx::work tx(conn);
    credit_ledger::charge_in(tx, u, "job-tx", 3, "", "charge:job-tx");
    tx.commit();
  }
  {
    pqxx::work tx(conn);
    auto r = credit_ledger::refund_in(tx, u, "job-tx", "failed", "refund:job-tx");
    CHECK(r.amount == 3);
    tx.commit();
  }
  CHECK(db_balance(env, u) == 3);
  require_consistent(env);
}
