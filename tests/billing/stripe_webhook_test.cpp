// Stripe webhook events against a real ledger: what Stripe reports paid is
// applied exactly once, however often and in whatever order it is
// delivered, and only when it is what this farm sold; nothing else moves a
// credit or a plan.
#include <catch2/catch.hpp>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "../store/ledger_fixture.hpp"
#include "reelfarm/billing/billing_service.hpp"
#include "reelfarm/billing/errc.hpp"
#include "reelfarm/billing/stripe_webhook.hpp"

using namespace reelfarm;
using namespace reelfarm::billing;
using json = nlohmann::json;
using effect = webhook_outcome::effect;

namespace {

// What billing_service::checkout records when it creates a session.
void sold(testing::ledger_env& env, const std::string& session, const std::string& user,
          const std::string& kind, const std::string& product, std::int64_t credits,
          std::int64_t cents) {
  env.sql(
      "INSERT INTO billing_checkouts (session_id, user_id, kind, product, credits, "
      "amount_cents, currency) VALUES ('" +
      session + "', '" + user + "', '" + kind + "', '" + product + "', " +
      (credits > 0 ? std::to_string(credits) : std::string("NULL")) + ", " + std::to_string(cents) +
      ", 'usd')");
}

json pack_session(const std::string& user, const std::string& id = "cs_test_a1",
                  std::int64_t cents = 1900) {
  return {{"id", id},
          {"object", "checkout.session"},
          {"mode", "payment"},
          {"status", "complete"},
          {"payment_status", "paid"},
          {"client_reference_id", user},
          {"customer", "cus_test_1"},
          {"payment_intent", "pi_test_" + id.substr(8)},
          {"amount_total", cents},
          {"currency", "usd"}};
}

json plan_session(const std::string& user, const std::string& id, const std::string& sub,
                  const std::string& invoice, std::int64_t cents = 2999) {
  return {{"id", id},
          {"object", "checkout.session"},
          {"mode", "subscription"},
          {"status", "complete"},
          {"payment_status", "paid"},
          {"client_reference_id", user},
          {"customer", "cus_test_1"},
          {"subscription", sub},
          {"invoice", invoice},
          {"amount_total", cents},
          {"currency", "usd"}};
}

json invoice(const std::string& id, const std::string& sub, std::int64_t cents = 2999) {
  return {{"id", id},
          {"object", "invoice"},
          {"subscription", sub},
          {"customer", "cus_test_1"},
          {"amount_paid", cents},
          {"currency", "usd"}};
}

json subscription(const std::string& id, const std::string& status, bool cancel_at_end = false) {
  return {{"id", id},
          {"object", "subscription"},
          {"customer", "cus_test_1"},
          {"status", status},
          {"cancel_at_period_end", cancel_at_end},
          {"current_period_end", 1'900'000'000},
          {"metadata", {{"reelfarm_plan", "pro"}}}};
}

std::string event(const json& object, const std::string& id, const std::string& type,
                  std::int64_t created = 1'800'000'000) {
  return json{{"id", id},
              {"object", "event"},
              {"type", type},
              {"created", created},
              {"data", {{"object", object}}}}
      .dump();
}

webhook_outcome applied(stripe_webhook& hooks, const std::string& body) {
  auto r = hooks.apply(body);
  if (!r) {
    FAIL(r.error().full_text());
  }
  return *r;
}

std::string plan_of(testing::ledger_env& env, const std::string& user) {
  return env.sql("SELECT plan FROM users WHERE id = '" + user + "'")[0][0].as<std::string>();
}

void check_audit(testing::ledger_env& env) {
  auto audit = env.ledger.audit();
  REQUIRE(audit);
  CHECK(audit->consistent());
}

}  // namespace

TEST_CASE("a paid credit pack is bought once, however it is delivered", "[billing][webhook]") {
  testing::ledger_env env;
  auto user = env.user("buyer");
  auto before = *env.ledger.balance(user);
  stripe_webhook hooks(env.ledger);
  sold(env, "cs_test_a1", user, "credit_pack", "small", 250, 1900);

  auto first = applied(hooks, event(pack_session(user), "evt_1", "checkout.session.completed"));
  CHECK(first.what == effect::credited);
  CHECK(first.credits == 250);
  CHECK(*env.ledger.balance(user) == before + 250);

  // Stripe retries, duplicates and sends the async-payment event too.
  CHECK(applied(hooks, event(pack_session(user), "evt_1", "checkout.session.completed")).what ==
        effect::already_applied);
  CHECK(
      applied(hooks, event(pack_session(user), "evt_2", "checkout.session.async_payment_succeeded"))
          .what == effect::already_applied);
  CHECK(*env.ledger.balance(user) == before + 250);

  // Many deliveries at once: one purchase.
  sold(env, "cs_test_b2", user, "credit_pack", "tiny", 40, 1900);
  auto burst = event(pack_session(user, "cs_test_b2"), "evt_3", "checkout.session.completed");
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
  CHECK(
      env.sql("SELECT count(*) FROM credit_transactions WHERE kind = 'purchase'")[0][0].as<int>() ==
      2);
  check_audit(env);
}

TEST_CASE("a session is credited only when it is what was sold", "[billing][webhook]") {
  testing::ledger_env env;
  auto user = env.user("target");
  auto other = env.user("other");
  auto before = *env.ledger.balance(user);
  stripe_webhook hooks(env.ledger);
  sold(env, "cs_test_e5", user, "credit_pack", "small", 100, 1000);
  struct forged {
    const char* what;
    json session;
  };
  auto cheaper = pack_session(user, "cs_test_e5", 50);
  auto euros = pack_session(user, "cs_test_e5", 1000);
  euros["currency"] = "eur";
  auto someone_else = pack_session(other, "cs_test_e5", 1000);
  auto as_plan = pack_session(user, "cs_test_e5", 1000);
  as_plan["mode"] = "subscription";
  auto unknown = pack_session(user, "cs_test_zz", 1000);
  int n = 0;
  for (const auto& f : {forged{"paid less", cheaper}, forged{"another currency", euros},
                        forged{"another user", someone_else}, forged{"another mode", as_plan},
                        forged{"a session not created here", unknown}}) {
    INFO(f.what);
    auto r =
        hooks.apply(event(f.session, "evt_f" + std::to_string(++n), "checkout.session.completed"));
    REQUIRE_FALSE(r);
    CHECK(r.error().is(billing_errc::invalid_event));
  }
  CHECK(*env.ledger.balance(user) == before);
  CHECK(*env.ledger.balance(other) == before);
  // Unpaid (an async payment still pending) moves nothing, and is not
  // remembered as applied: its success event still counts.
  auto unpaid = pack_session(user, "cs_test_e5", 1000);
  unpaid["payment_status"] = "unpaid";
  CHECK(applied(hooks, event(unpaid, "evt_u", "checkout.session.completed")).what ==
        effect::ignored);
  CHECK(applied(hooks, event(pack_session(user, "cs_test_e5", 1000), "evt_s",
                             "checkout.session.async_payment_succeeded"))
            .what == effect::credited);
  CHECK(*env.ledger.balance(user) == before + 100);
}

TEST_CASE("a subscription: bought, renewed, past due, then ended", "[billing][webhook]") {
  testing::ledger_env env;
  auto user = env.user("subscriber");
  env.sql("INSERT INTO billing_customers (user_id, customer_id) VALUES ('" + user +
          "', 'cus_test_1')");
  stripe_webhook hooks(env.ledger);
  sold(env, "cs_test_p1", user, "plan", "pro", 0, 2999);

  // The first invoice overtakes the checkout: not known yet, Stripe retries.
  auto early = hooks.apply(event(invoice("in_1", "sub_1"), "evt_i1", "invoice.paid"));
  REQUIRE_FALSE(early);
  CHECK(early.error().is(billing_errc::not_ready));
  CHECK(plan_of(env, user) == "free");

  auto bought = applied(hooks, event(plan_session(user, "cs_test_p1", "sub_1", "in_1"), "evt_c1",
                                     "checkout.session.completed"));
  CHECK(bought.what == effect::subscribed);
  CHECK(plan_of(env, user) == "pro");
  CHECK(*env.ledger.balance(user) == 100);
  // Stripe renews a subscription, not Reelfarm's calendar.
  CHECK(env.sql("SELECT credits_reset_date IS NULL FROM users WHERE id = '" + user + "'")[0][0]
            .as<bool>());
  // The retried first invoice finds its period already paid for.
  CHECK(applied(hooks, event(invoice("in_1", "sub_1"), "evt_i1", "invoice.paid")).what ==
        effect::already_applied);

  // A month of rendering, then the renewal resets the allowance, once.
  REQUIRE(env.ledger.charge(user, "job-1", 70, "render", "charge:job-1"));
  CHECK(applied(hooks, event(invoice("in_2", "sub_1"), "evt_i2", "invoice.paid")).what ==
        effect::renewed);
  CHECK(*env.ledger.balance(user) == 100);
  REQUIRE(env.ledger.charge(user, "job-2", 40, "render", "charge:job-2"));
  CHECK(applied(hooks, event(invoice("in_2", "sub_1"), "evt_i2b", "invoice.paid")).what ==
        effect::already_applied);
  CHECK(*env.ledger.balance(user) == 60);

  // The next renewal fails: the plan stays through the grace period.
  CHECK(applied(hooks,
                event(invoice("in_3", "sub_1"), "evt_f3", "invoice.payment_failed", 1'800'100'000))
            .what == effect::past_due);
  CHECK(plan_of(env, user) == "pro");
  CHECK(env.sql("SELECT status FROM billing_subscriptions")[0][0].as<std::string>() == "past_due");
  // An older subscription event arriving late changes nothing.
  CHECK(applied(hooks, event(subscription("sub_1", "active"), "evt_old",
                             "customer.subscription.updated", 1'800'100'000))
            .what == effect::updated);
  CHECK(applied(hooks, event(subscription("sub_1", "active"), "evt_older",
                             "customer.subscription.updated", 1'700'000'000))
            .what == effect::ignored);

  // Stripe gives up: the subscription is deleted, the user is back on Free.
  CHECK(applied(hooks, event(subscription("sub_1", "canceled"), "evt_d",
                             "customer.subscription.deleted", 1'800'200'000))
            .what == effect::plan_ended);
  CHECK(plan_of(env, user) == "free");
  CHECK_FALSE(
      env.sql("SELECT credits_reset_date IS NULL FROM users WHERE id = '" + user + "'")[0][0]
          .as<bool>());
  // A renewal reported after the end gives nothing.
  CHECK(applied(hooks, event(invoice("in_4", "sub_1"), "evt_i4", "invoice.paid")).what ==
        effect::ignored);
  CHECK(*env.ledger.balance(user) == 60);
  check_audit(env);
}

TEST_CASE("a failed renewal lapses to the default plan after the grace period",
          "[billing][webhook]") {
  testing::ledger_env env;
  auto user = env.user("lapsing");
  stripe_webhook hooks(env.ledger);
  sold(env, "cs_test_g1", user, "plan", "standard", 0, 999);
  applied(hooks, event(plan_session(user, "cs_test_g1", "sub_g", "in_g1", 999), "evt_g1",
                       "checkout.session.completed"));
  CHECK(plan_of(env, user) == "standard");
  applied(hooks,
          event(invoice("in_g2", "sub_g", 999), "evt_g2", "invoice.payment_failed", 1'800'000'000));

  billing_options options;
  options.stripe.secret_key = "sk_test_unreachable";
  options.stripe.api_base = "http://127.0.0.1:9";  // nothing listens: the cancel is logged
  options.stripe.max_retries = 0;
  options.webhook_secret = "whsec_x";
  options.grace_period = std::chrono::hours(24 * 7);
  stripe_client stripe(options.stripe);
  billing_service service(options, env.ledger, stripe);
  using std::chrono::seconds;
  const std::chrono::system_clock::time_point failed_at{seconds(1'800'000'000)};
  auto within = service.expire_overdue(failed_at + std::chrono::hours(24 * 6));
  REQUIRE(within);
  CHECK(*within == 0);
  CHECK(plan_of(env, user) == "standard");
  auto after = service.expire_overdue(failed_at + std::chrono::hours(24 * 7 + 1));
  REQUIRE(after);
  CHECK(*after == 1);
  CHECK(plan_of(env, user) == "free");
  // A late payment of the lapsed subscription buys nothing more.
  CHECK(applied(hooks, event(invoice("in_g2", "sub_g", 999), "evt_g3", "invoice.paid")).what ==
        effect::ignored);
  CHECK(plan_of(env, user) == "free");
  check_audit(env);
}

TEST_CASE("a refunded pack takes back its unused credits, never below zero", "[billing][webhook]") {
  testing::ledger_env env;
  auto user = env.user("refunded");
  auto start = *env.ledger.balance(user);
  stripe_webhook hooks(env.ledger);
  sold(env, "cs_test_r1", user, "credit_pack", "medium", 500, 4500);
  applied(hooks,
          event(pack_session(user, "cs_test_r1", 4500), "evt_r1", "checkout.session.completed"));
  CHECK(*env.ledger.balance(user) == start + 500);
  auto charge = [&](std::int64_t refunded) {
    return json{{"id", "ch_test_r1"},
                {"object", "charge"},
                {"payment_intent", "pi_test_r1"},
                {"amount", 4500},
                {"amount_refunded", refunded},
                {"currency", "usd"},
                {"refunded", refunded == 4500}};
  };
  // Half refunded: the 250 credits that half bought go back.
  auto half = applied(hooks, event(charge(2250), "evt_h", "charge.refunded"));
  CHECK(half.what == effect::reversed);
  CHECK(half.credits == 250);
  CHECK(*env.ledger.balance(user) == start + 250);
  CHECK(applied(hooks, event(charge(2250), "evt_h2", "charge.refunded")).what ==
        effect::already_applied);
  // The user spends most of the rest; the full refund takes what is left.
  const auto spend = start + 200;
  REQUIRE(env.ledger.charge(user, "job-r", spend, "render", "charge:job-r"));
  auto full = applied(hooks, event(charge(4500), "evt_full", "charge.refunded"));
  CHECK(full.what == effect::reversed);
  CHECK(full.credits == 50);
  CHECK(*env.ledger.balance(user) == 0);
  auto reversals =
      env.sql("SELECT count(*), sum(amount) FROM credit_transactions WHERE kind = 'reversal'");
  CHECK(reversals[0][0].as<int>() == 2);
  CHECK(reversals[0][1].as<int>() == 300);
  check_audit(env);
  // A refund Stripe reports with another amount than the payment recorded
  // is not believed.
  auto odd = charge(4500);
  odd["amount"] = 9999;
  auto r = hooks.apply(event(odd, "evt_odd", "charge.refunded"));
  REQUIRE_FALSE(r);
  CHECK(r.error().is(billing_errc::invalid_event));
}

TEST_CASE("events that change nothing are acknowledged, bodies that are no events refused",
          "[billing][webhook]") {
  testing::ledger_env env;
  auto user = env.user("watcher");
  auto before = *env.ledger.balance(user);
  stripe_webhook hooks(env.ledger);
  for (const auto& body :
       {event(json::object(), "evt_10", "customer.created"),
        event(invoice("in_x", ""), "evt_11", "invoice.paid"),
        event(subscription("sub_foreign", "active"), "evt_12", "customer.subscription.updated"),
        event(json{{"id", "ch_x"},
                   {"object", "charge"},
                   {"payment_intent", "pi_unknown"},
                   {"amount", 100},
                   {"amount_refunded", 100},
                   {"currency", "usd"}},
              "evt_13", "charge.refunded")}) {
    auto r = applied(hooks, body);
    CHECK(r.what == effect::ignored);
    CHECK_FALSE(r.note.empty());
  }
  for (const std::string& body :
       {std::string("not json"), std::string("[]"), json{{"object", "event"}}.dump(),
        json{{"id", "evt_1"}, {"object", "charge"}, {"type", "x"}}.dump(),
        json{{"id", "evt_1"}, {"object", "event"}, {"type", "checkout.session.completed"}}.dump(),
        event(json{{"id", "pi_1"}, {"object", "payment_intent"}}, "evt_1",
              "checkout.session.completed")}) {
    INFO(body);
    auto r = hooks.apply(body);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(billing_errc::malformed_event));
  }
  CHECK(*env.ledger.balance(user) == before);
}
