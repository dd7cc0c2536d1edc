// Billing through the whole gateway against the local Stripe: Checkout for
// packs and plans paid on Stripe's hosted page, the webhooks Stripe signs and
// delivers (duplicated, reordered, retried), a month of renewals, a failed
// payment, a refund; events signed by Stripe's own Node library beside
// forged, altered and stale ones; every way to credits without paying shut.
// The ledger audit is exact after all of it.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <pqxx/pqxx>

#include "../gateway/gateway_fixture.hpp"
#include "reelfarm/billing/stripe_signature.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/store/credit_ledger.hpp"
#include "reelfarm/testing/temp_dir.hpp"
#include "support/local_stripe.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;
using json = nlohmann::json;

namespace {

constexpr const char* secret = local_stripe::webhook_secret;

/// The Stripe-Signature header Stripe's Node library makes for `payload`.
std::string signed_by_stripe(const std::string& payload, const std::string& with_secret,
                             std::int64_t timestamp) {
  temp_dir dir;
  { std::ofstream(dir.path() / "payload.json", std::ios::binary) << payload; }
  process_options p;
  p.working_dir = REELFARM_WEB_TESTS_DIR;  // where npm put node_modules/stripe
  p.argv = {REELFARM_NODE_JS,
            "-e",
            "const Stripe = require('stripe');"
            "const fs = require('fs');"
            "process.stdout.write(Stripe.webhooks.generateTestHeaderString({"
            "  payload: fs.readFileSync(process.argv[1], 'utf8'),"
            "  secret: process.argv[2], timestamp: Number(process.argv[3])}));",
            (dir.path() / "payload.json").string(),
            with_secret,
            std::to_string(timestamp)};
  p.output_file = (dir.path() / "header").string();
  auto status = run_program(p, std::chrono::seconds(60));
  auto header = read_file(dir.path() / "header");
  INFO("node: " << (header ? *header : std::string("(no output)"))
                << " (tests/web/install.sh installs Stripe's library)");
  REQUIRE(status);
  REQUIRE(*status == 0);
  REQUIRE(header);
  REQUIRE(header->starts_with("t="));
  return *header;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t balance(gateway_env& env, const test_user& u) {
  auto r = env.get("/api/v1/credits/balance", {"Authorization: Bearer " + u.access});
  REQUIRE(r.status == 200);
  return r.json()["balance"].get<std::int64_t>();
}

http_reply deliver(gateway_env& env, const std::string& body, const std::string& signature) {
  std::vector<std::string> headers = {"Content-Type: application/json; charset=utf-8"};
  if (!signature.empty()) {
    headers.push_back("Stripe-Signature: " + signature);
  }
  return http_call("POST", env.url("/api/v1/billing/webhook"), body, headers);
}

// The gateway with billing on, against a local Stripe that delivers its
// webhooks to it.
struct billing_env {
  billing_env() : gateway(options(stripe.url())) {
    stripe.control("POST", "webhook",
                   {{"url", gateway.url("/api/v1/billing/webhook")}, {"max_attempts", 8}});
  }

  static gateway::gateway_options options(const std::string& stripe_url) {
    auto o = test_gateway_options();
    o.billing.stripe.secret_key = local_stripe::secret_key;
    o.billing.stripe.api_base = stripe_url;
    o.billing.stripe.backoff_base = std::chrono::milliseconds(10);
    o.billing.webhook_secret = local_stripe::webhook_secret;
    o.billing.credit_packs = {{"small", 100, 1000}, {"medium", 500, 4500}};
    o.billing.return_url = "http://127.0.0.1:1/console/billing";
    return o;
  }

  // Buys through Checkout as a browser would: the gateway answers Stripe's
  // hosted page, the page's Pay button pays, Stripe redirects back and
  // delivers its events.
  std::string buy(const test_user& u, const json& what) {
    auto r = gateway.send("POST", "/api/v1/billing/checkout", what, {u.auth()});
    INFO(r.body);
    REQUIRE(r.status == 201);
    auto url = r.json()["url"].get<std::string>();
    REQUIRE(url.starts_with(stripe.url() + "/c/pay/"));
    auto paid = http_call("POST", url, "", {"Content-Type: application/x-www-form-urlencoded"});
    CHECK(paid.status == 303);
    settle();
    return r.json()["session_id"];
  }

  // Every webhook delivered and answered 2xx (none left failing).
  void settle() {
    auto deliveries = stripe.wait_for_deliveries();
    std::map<std::string, long> last;
    for (const auto& d : deliveries) {
      last[d["event_id"]] = d["status"].get<long>();
    }
    for (const auto& [event, status] : last) {
      INFO(event << " answered " << status);
      CHECK(status == 200);
    }
  }

  json billing(const test_user& u) {
    auto r = gateway.get("/api/v1/billing", {u.auth()});
    REQUIRE(r.status == 200);
    return r.json();
  }

  void advance_days(int days) {
    stripe.control("POST", "clock/advance", {{"seconds", days * 86400}});
    settle();
  }

  pqxx::result sql(const std::string& q) {
    pqxx::connection c(gateway.dsn());
    pqxx::work tx(c);
    auto r = tx.exec(q);
    tx.commit();
    return r;
  }

  void check_audit() {
    pg_pool pool(gateway.dsn(), 1);
    credit_ledger ledger(pool, plan_catalog::defaults());
    auto audit = ledger.audit();
    REQUIRE(audit);
    for (const auto& p : audit->problems) {
      INFO(p);
    }
    CHECK(audit->consistent());
  }

  local_stripe stripe;
  gateway_env gateway;
};

std::string plan_of(billing_env& env, const test_user& u) {
  return env.billing(u)["plan"];
}

}  // namespace

TEST_CASE("a credit pack bought through Checkout arrives once, and a refund takes it back",
          "[gateway][billing]") {
  billing_env env;
  auto buyer = env.gateway.sign_up("buyer");
  const auto start = balance(env.gateway, buyer);
  auto offers = env.billing(buyer);
  CHECK(offers["credit_packs"].size() == 2);
  CHECK(offers["currency"] == "usd");

  // Stripe delivers every event twice: the credits arrive once.
  env.stripe.control("POST", "webhook", {{"duplicate", true}});
  auto session = env.buy(buyer, {{"credit_pack", "small"}});
  CHECK(balance(env.gateway, buyer) == start + 100);
  auto history = env.gateway.get("/api/v1/credits/history", {buyer.auth()}).json();
  auto purchase = history["items"][0];
  CHECK(purchase["kind"] == "purchase");
  CHECK(purchase["payment_ref"].get<std::string>().starts_with("pi_"));
  CHECK(purchase["description"].get<std::string>().find(session) != std::string::npos);

  // The next pack's events arrive newest first.
  env.stripe.control("POST", "webhook", {{"duplicate", false}, {"reverse", true}});
  auto r = env.gateway.send("POST", "/api/v1/billing/checkout", {{"credit_pack", "medium"}},
                            {buyer.auth()});
  REQUIRE(r.status == 201);
  env.stripe.control("POST", "checkout/" + r.json()["session_id"].get<std::string>() + "/complete");
  env.stripe.control("POST", "webhook/flush");
  env.stripe.control("POST", "webhook", {{"reverse", false}});
  env.settle();
  CHECK(balance(env.gateway, buyer) == start + 600);

  // The first pack is refunded in full: its 100 credits go back.
  auto paid = env.stripe.api("GET", "/v1/checkout/sessions/" + session).body;
  auto refund = env.stripe.api("POST", "/v1/refunds",
                               "payment_intent=" + paid["payment_intent"].get<std::string>(),
                               {"Idempotency-Key: refund-1"});
  REQUIRE(refund.status == 200);
  env.settle();
  CHECK(balance(env.gateway, buyer) == start + 500);
  CHECK(
      env.sql("SELECT count(*) FROM credit_transactions WHERE kind = 'reversal'")[0][0].as<int>() ==
      1);
  env.check_audit();
}

TEST_CASE("a month of a subscription: bought with the discount, renewed, unpaid, ended",
          "[gateway][billing]") {
  billing_env env;
  auto member = env.gateway.sign_up("member");
  // Opting in to data sharing is kept with its moment, and discounts.
  auto me =
      env.gateway.send("PUT", "/api/v1/users/me", {{"data_sharing_opt_in", true}}, {member.auth()});
  REQUIRE(me.status == 200);
  CHECK(me.json()["data_sharing_opt_in"] == true);
  CHECK(me.json()["data_sharing_opt_in_at"].is_string());
  CHECK(env.billing(member)["discount_percent"] == 10);

  auto checkout =
      env.gateway.send("POST", "/api/v1/billing/checkout", {{"plan", "pro"}}, {member.auth()});
  REQUIRE(checkout.status == 201);
  CHECK(checkout.json()["discounted"] == true);
  CHECK(checkout.json()["amount_cents"] == 2699);
  CHECK(plan_of(env, member) == "free");  // nothing until Stripe says it is paid
  auto paid = http_call("POST", checkout.json()["url"], "", {});
  CHECK(paid.status == 303);
  env.settle();
  CHECK(plan_of(env, member) == "pro");
  CHECK(balance(env.gateway, member) == 100);
  auto sub = env.billing(member)["subscription"];
  REQUIRE(sub.is_object());
  CHECK(sub["status"] == "active");
  // One live subscription: another plan is not sold on top of it.
  CHECK(
      env.gateway.send("POST", "/api/v1/billing/checkout", {{"plan", "standard"}}, {member.auth()})
          .status == 409);

  // The month passes; Stripe renews and the allowance is reset.
  env.advance_days(31);
  CHECK(plan_of(env, member) == "pro");
  auto invoices = env.gateway.get("/api/v1/billing/invoices", {member.auth()}).json();
  REQUIRE(invoices["items"].size() == 2);
  CHECK(invoices["items"][0]["status"] == "paid");
  CHECK(invoices["items"][0]["hosted_invoice_url"].get<std::string>().starts_with(env.stripe.url() +
                                                                                  "/i/"));
  auto portal = env.gateway.send("POST", "/api/v1/billing/portal", json::object(), {member.auth()});
  REQUIRE(portal.status == 201);
  CHECK(portal.json()["url"].get<std::string>().starts_with(env.stripe.url() + "/p/session/"));

  // The card stops working: past due, the plan kept while Stripe retries,
  // then Stripe cancels and the user is back on Free.
  auto customer = env.sql("SELECT customer_id FROM billing_customers")[0][0].as<std::string>();
  env.stripe.control("POST", "customers/" + customer + "/payments", {{"fail", true}});
  env.advance_days(31);
  CHECK(env.billing(member)["subscription"]["status"] == "past_due");
  CHECK(plan_of(env, member) == "pro");
  env.advance_days(7);
  CHECK(plan_of(env, member) == "free");
  CHECK(env.billing(member)["subscription"].is_null());
  env.check_audit();
}

TEST_CASE("a cancelled plan runs to the end of its paid period", "[gateway][billing]") {
  billing_env env;
  auto leaver = env.gateway.sign_up("leaver");
  CHECK(env.gateway
            .send("POST", "/api/v1/billing/subscription/cancel", json::object(), {leaver.auth()})
            .status == 409);
  env.buy(leaver, {{"plan", "standard"}});
  CHECK(plan_of(env, leaver) == "standard");
  auto cancel = env.gateway.send("POST", "/api/v1/billing/subscription/cancel", json::object(),
                                 {leaver.auth()});
  REQUIRE(cancel.status == 200);
  CHECK(cancel.json()["subscription"]["cancel_at_period_end"] == true);
  env.settle();
  env.advance_days(20);
  CHECK(plan_of(env, leaver) == "standard");
  env.advance_days(12);
  CHECK(plan_of(env, leaver) == "free");
  env.check_audit();
}

TEST_CASE("Stripe's own library signs what the webhook accepts, forgeries move nothing",
          "[gateway][billing]") {
  billing_env env;
  auto payer = env.gateway.sign_up("payer");
  auto thief = env.gateway.sign_up("thief");
  const auto before = balance(env.gateway, thief);
  // A real session the payer started; its completion is signed by Stripe's
  // Node library instead of the local Stripe.
  auto r = env.gateway.send("POST", "/api/v1/billing/checkout", {{"credit_pack", "small"}},
                            {payer.auth()});
  REQUIRE(r.status == 201);
  auto session =
      env.stripe.api("GET", "/v1/checkout/sessions/" + r.json()["session_id"].get<std::string>())
          .body;
  session["status"] = "complete";
  session["payment_status"] = "paid";
  session["payment_intent"] = "pi_test_signed_by_node";
  auto body = json{{"id", "evt_signed_by_node"},           {"object", "event"},
                   {"api_version", "2024-06-20"},          {"created", now_seconds()},
                   {"type", "checkout.session.completed"}, {"data", {{"object", session}}}}
                  .dump();
  auto stripe_header = signed_by_stripe(body, secret, now_seconds());
  // Our own signer agrees with Stripe's byte for byte (used by other tests).
  auto t = std::stoll(stripe_header.substr(2, stripe_header.find(',') - 2));
  CHECK(billing::stripe_signature_header(body, secret, t) == stripe_header);

  auto check_refused = [&](const http_reply& reply) {
    INFO(reply.body);
    CHECK(reply.status == 400);
    CHECK(reply.error_code() == "invalid_signature");
  };
  // Signed by Stripe's library, but with a secret that is not the farm's.
  check_refused(deliver(env.gateway, body, signed_by_stripe(body, "whsec_guessed", now_seconds())));
  // A genuine signature over another body: the thief's id put in.
  auto altered = body;
  altered.replace(altered.find(payer.id), payer.id.size(), thief.id);
  check_refused(deliver(env.gateway, altered, stripe_header));
  // A genuine delivery captured and replayed ten minutes later.
  check_refused(deliver(env.gateway, body, signed_by_stripe(body, secret, now_seconds() - 600)));
  check_refused(deliver(env.gateway, body, ""));
  check_refused(deliver(env.gateway, body, "t=1,v1=" + std::string(64, '0')));

  auto first = deliver(env.gateway, body, stripe_header);
  INFO(first.body);
  CHECK(first.status == 200);
  CHECK(first.json()["effect"] == "credited");
  auto again = deliver(env.gateway, body, signed_by_stripe(body, secret, now_seconds()));
  CHECK(again.json()["effect"] == "already_applied");

  // Every other way to credits or a plan without paying stays shut.
  auto upgrade = env.gateway.send("POST", "/api/v1/subscriptions/upgrade", {{"plan", "enterprise"}},
                                  {thief.auth()});
  CHECK(upgrade.status == 403);
  auto purchase = env.gateway.send("POST", "/api/v1/credits/purchase",
                                   {{"amount", 500}, {"payment_ref", "pi_test_signed_by_node"}},
                                   {thief.auth(), "Idempotency-Key: fake-1"});
  CHECK(purchase.status == 403);
  auto free_plan =
      env.gateway.send("POST", "/api/v1/billing/checkout", {{"plan", "free"}}, {thief.auth()});
  CHECK(free_plan.status == 422);
  auto both = env.gateway.send("POST", "/api/v1/billing/checkout",
                               {{"plan", "pro"}, {"credit_pack", "small"}}, {thief.auth()});
  CHECK(both.status == 422);
  // A session the thief paid for a small pack, completed by Stripe, credits
  // the thief's small pack and nothing else.
  CHECK(balance(env.gateway, thief) == before);
  env.check_audit();
}

TEST_CASE("without Stripe configured the billing routes say billing is off", "[gateway][billing]") {
  gateway_env env;
  auto u = env.sign_up("plain");
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/billing"},
           {"POST", "/api/v1/billing/checkout"},
           {"GET", "/api/v1/billing/invoices"},
           {"POST", "/api/v1/billing/portal"},
           {"POST", "/api/v1/billing/subscription/cancel"}}) {
    INFO(method << " " << path);
    auto r = method == "GET" ? env.get(path, {u.auth()})
                             : env.send(method, path, {{"plan", "pro"}}, {u.auth()});
    CHECK(r.status == 503);
    CHECK(r.error_code() == "billing_disabled");
  }
  auto body = json{{"id", "evt_x"}, {"object", "event"}, {"type", "x"}}.dump();
  auto r = deliver(env, body, billing::stripe_signature_header(body, "", now_seconds()));
  CHECK(r.status == 503);
  CHECK(r.error_code() == "billing_disabled");
  CHECK(env.send("POST", "/api/v1/subscriptions/upgrade", {{"plan", "enterprise"}}, {u.auth()})
            .status == 503);
}
