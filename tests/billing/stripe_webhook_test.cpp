// Stripe webhook events against a real ledger: a paid Checkout Session buys
// its credits exactly once, however often and in whatever order Stripe
// delivers; nothing else moves a credit.
#include <catch2/catch.hpp>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "../store/ledger_fixture.hpp"
#include "reelfarm/billing/errc.hpp"
#include "reelfarm/billing/stripe_webhook.hpp"

using namespace reelfarm;
using namespace reelfarm::billing;
using json = nlohmann::json;
using effect = webhook_outcome::effect;

namespace {

json session(const std::string& user, const std::string& credits,
             const std::string& id = "cs_test_a1") {
  return {{"id", id},
          {"object", "checkout.session"},
          {"mode", "payment"},
          {"payment_status", "paid"},
          {"client_reference_id", user},
          {"payment_intent", "pi_test_" + id.substr(8)},
          {"amount_total", 1900},
          {"currency", "usd"},
          {"metadata", {{"reelfarm_credits", credits}}}};
}

std::string event(const json& object, const std::string& id = "evt_1",
                  const std::string& type = "checkout.session.completed") {
  return json{{"id", id}, {"object", "event"}, {"type", type}, {"data", {{"object", object}}}}
      .dump();
}

}  // namespace

TEST_CASE("a paid Checkout Session buys its credits once, however it is delivered",
          "[billing][webhook]") {
  testing::ledger_env env;
  auto user = env.user("buyer");
  auto before = *env.ledger.balance(user);
  stripe_webhook hooks(env.ledger);

  auto first = hooks.apply(event(session(user, "250")));
  REQUIRE(first);
  CHECK(first->what == effect::credited);
  CHECK(first->credits == 250);
  CHECK(*env.ledger.balance(user) == before + 250);

  // Stripe retries, duplicates and sends the async-payment event too.
  auto again = hooks.apply(event(session(user, "250")));
  REQUIRE(again);
  CHECK(again->what == effect::already_credited);
  auto other_event =
      hooks.apply(event(session(user, "250"), "evt_2", "checkout.session.async_payment_succeeded"));
  REQUIRE(other_event);
  CHECK(other_event->what == effect::already_credited);
  CHECK(*env.ledger.balance(user) == before + 250);

  // Many deliveries at once: one purchase.
  auto burst = event(session(user, "40", "cs_test_b2"), "evt_3");
  std::atomic<int> credited{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = hooks.apply(burst);
      if (r && r->what == effect::credited) {
        ++credited;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  CHECK(credited == 1);
  CHECK(*env.ledger.balance(user) == before + 290);
  auto rows =
      env.sql("SELECT count(*) FROM credit_transactions WHERE kind = 'purchase' AND user_id = '" +
              user + "'");
  CHECK(rows[0][0].as<int>() == 2);
  auto audit = env.ledger.audit();
  REQUIRE(audit);
  CHECK(audit->consistent());
}

TEST_CASE("events that move no money are acknowledged and ignored", "[billing][webhook]") {
  testing::ledger_env env;
  auto user = env.user("watcher");
  auto before = *env.ledger.balance(user);
  stripe_webhook hooks(env.ledger);
  auto unpaid = session(user, "100", "cs_test_c3");
  unpaid["payment_status"] = "unpaid";
  auto subscription = session(user, "100", "cs_test_d4");
  subscription["mode"] = "subscription";
  for (const auto& body :
       {event(unpaid), event(subscription), event(session(user, "100"), "evt_9", "invoice.paid"),
        event(json::object(), "evt_10", "customer.created")}) {
    auto r = hooks.apply(body);
    REQUIRE(r);
    CHECK(r->what == effect::ignored);
    CHECK_FALSE(r->note.empty());
  }
  CHECK(*env.ledger.balance(user) == before);
}

TEST_CASE("sessions Reelfarm did not sell and bodies that are not events are refused",
          "[billing][webhook]") {
  testing::ledger_env env;
  auto user = env.user("target");
  auto before = *env.ledger.balance(user);
  stripe_webhook hooks(env.ledger);
  for (const auto& [credits, who] : std::vector<std::pair<std::string, std::string>>{
           {"0", user},
           {"-5", user},
           {"abc", user},
           {"10000000", user},
           {"", user},
           {"100", ""},
           {"100", "not-a-uuid"},
           {"100", "00000000-0000-0000-0000-000000000000"}}) {
    INFO(credits << " for " << who);
    auto r = hooks.apply(event(session(who, credits, "cs_test_e5")));
    REQUIRE_FALSE(r);
    CHECK(r.error().is(billing_errc::invalid_event));
  }
  for (const std::string& body :
       {std::string("not json"), std::string("[]"), json{{"object", "event"}}.dump(),
        json{{"id", "evt_1"}, {"object", "charge"}, {"type", "x"}}.dump(),
        json{{"id", "evt_1"}, {"object", "event"}, {"type", "checkout.session.completed"}}.dump(),
        event(json{{"id", "pi_1"}, {"object", "payment_intent"}})}) {
    INFO(body);
    auto r = hooks.apply(body);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(billing_errc::malformed_event));
  }
  CHECK(*env.ledger.balance(user) == before);
}
