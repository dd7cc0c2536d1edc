#include <catch2/catch.hpp>

#include "ledger_fixture.hpp"
#include "reelfarm/store/errc.hpp"

using namespace reelfarm;

TEST_CASE("sign-up puts a user on Free with 3 credits through the ledger", "[accounts]") {
  testing::ledger_env env;
  auto made = env.accounts.create({"Alice@Example.com", "s3cret!", "Alice", "creator"});
  REQUIRE(made);
  CHECK(made->email == "Alice@Example.com");
  CHECK(made->plan == "free");
  CHECK(made->role == "creator");
  CHECK(made->credits_balance == 3);
  CHECK_FALSE(made->credits_unlimited);
  REQUIRE(made->credits_reset_date);
  CHECK(*made->credits_reset_date >
        std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  CHECK_FALSE(made->last_login_at);

  auto history = env.ledger.history(made->id);
  REQUIRE(history);
  REQUIRE(history->size() == 1);
  CHECK(history->front().kind == credit_kind::grant);
  CHECK(history->front().amount == 3);
  CHECK(history->front().balance_after == 3);

  auto stored = env.sql("SELECT password_hash FROM users")[0][0].as<std::string>();
  CHECK_THAT(stored, Catch::StartsWith("$argon2id$"));
  CHECK(stored.find("s3cret!") == std::string::npos);
}

TEST_CASE("emails are unique regardless of case", "[accounts]") {
  testing::ledger_env env;
  REQUIRE(env.accounts.create({"bob@example.com", "pw", "Bob"}));
  auto again = env.accounts.create({"BOB@Example.COM", "other", "Bobby"});
  REQUIRE_FALSE(again);
  CHECK(again.error().is(store_errc::duplicate_email));
  CHECK_THAT(again.error().message(), Catch::Contains("BOB@Example.COM"));
  CHECK(env.sql("SELECT count(*) FROM users")[0][0].as<int>() == 1);
  CHECK(env.sql("SELECT count(*) FROM credit_transactions")[0][0].as<int>() == 1);

  auto found = env.accounts.find_by_email("Bob@EXAMPLE.com");
  REQUIRE(found);
  CHECK(found->full_name == "Bob");
}

TEST_CASE("invalid sign-ups are refused with a reason", "[accounts]") {
  testing::ledger_env env;
  auto no_at = env.accounts.create({"bob.example.com", "pw", "Bob"});
  REQUIRE_FALSE(no_at);
  CHECK(no_at.error().is(store_errc::invalid_argument));
  auto role = env.accounts.create({"bob@example.com", "pw", "Bob", "root"});
  REQUIRE_FALSE(role);
  CHECK_THAT(role.error().message(), Catch::Contains("creator, admin"));
  auto empty = env.accounts.create({"bob@example.com", "", "Bob"});
  REQUIRE_FALSE(empty);
  CHECK(empty.error().is(store_errc::invalid_argument));
}

TEST_CASE("login checks the password and records the time", "[accounts]") {
  testing::ledger_env env;
  auto made = env.accounts.create({"carol@example.com", "right", "Carol"});
  REQUIRE(made);
  auto wrong = env.accounts.login("carol@example.com", "wrong");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().is(store_errc::password));
  auto unknown = env.accounts.login("nobody@example.com", "right");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message() == wrong.error().message());

  auto ok = env.accounts.login("CAROL@example.com", "right");
  REQUIRE(ok);
  CHECK(ok->id == made->id);
  CHECK(ok->last_login_at.has_value());

  REQUIRE(env.accounts.set_role(made->id, "admin"));
  CHECK(env.accounts.get(made->id)->role == "admin");
  REQUIRE(env.accounts.set_password(made->id, "newer"));
  CHECK(env.accounts.login("carol@example.com", "newer"));
  CHECK_FALSE(env.accounts.login("carol@example.com", "right"));
}

TEST_CASE("unknown users are not_found", "[accounts]") {
  testing::ledger_env env;
  auto missing = env.accounts.get("00000000-0000-0000-0000-000000000000");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().is(store_errc::not_found));
  auto garbage = env.accounts.get("not-a-uuid");
  REQUIRE_FALSE(garbage);
  CHECK(garbage.error().is(store_errc::not_found));
  CHECK(env.accounts.record_login("00000000-0000-0000-0000-000000000000")
            .error()
            .is(store_errc::not_found));
}
