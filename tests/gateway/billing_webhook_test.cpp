// POST /api/v1/billing/webhook through the whole gateway, with events signed
// by Stripe's own Node library (tests/web/node_modules/stripe) beside forged,
// altered and stale ones. Only a verified, paid Checkout Session buys credits,
// and only once.
#include <catch2/catch.hpp>

#include <fstream>

#include "gateway_fixture.hpp"
#include "reelfarm/billing/stripe_signature.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;
using json = nlohmann::json;

namespace {

constexpr const char* secret = "whsec_reelfarm_gateway_test_0123456789";

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

std::string checkout_completed(const std::string& user, int credits, const std::string& session,
                               const std::string& event_id) {
  json object = {{"id", session},
                 {"object", "checkout.session"},
                 {"mode", "payment"},
                 {"payment_status", "paid"},
                 {"client_reference_id", user},
                 {"payment_intent", "pi_" + session.substr(3)},
                 {"amount_total", 1900},
                 {"currency", "usd"},
                 {"metadata", {{"reelfarm_credits", std::to_string(credits)}}}};
  return json{{"id", event_id},
              {"object", "event"},
              {"api_version", "2024-06-20"},
              {"type", "checkout.session.completed"},
              {"data", {{"object", object}}}}
      .dump();
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

}  // namespace

TEST_CASE("Stripe's own library signs what the webhook accepts and the credits arrive once",
          "[gateway][billing]") {
  auto options = test_gateway_options();
  options.stripe_webhook_secret = secret;
  gateway_env env(options);
  auto payer = env.sign_up("payer");
  auto before = balance(env, payer);

  auto body = checkout_completed(payer.id, 120, "cs_test_gateway1", "evt_gateway1");
  auto stripe_header = signed_by_stripe(body, secret, now_seconds());
  // Our own signer agrees with Stripe's byte for byte (used by other tests).
  auto t = std::stoll(stripe_header.substr(2, stripe_header.find(',') - 2));
  CHECK(billing::stripe_signature_header(body, secret, t) == stripe_header);

  auto first = deliver(env, body, stripe_header);
  INFO(first.body);
  CHECK(first.status == 200);
  CHECK(first.json()["effect"] == "credited");
  CHECK(balance(env, payer) == before + 120);
  // Stripe delivers again (a timeout on its side): acknowledged, not credited.
  auto again = deliver(env, body, signed_by_stripe(body, secret, now_seconds()));
  CHECK(again.status == 200);
  CHECK(again.json()["effect"] == "already_credited");
  CHECK(balance(env, payer) == before + 120);
}

TEST_CASE("forged, altered, stale and unsigned webhooks move nothing", "[gateway][billing]") {
  auto options = test_gateway_options();
  options.stripe_webhook_secret = secret;
  gateway_env env(options);
  auto thief = env.sign_up("thief");
  auto before = balance(env, thief);
  auto body = checkout_completed(thief.id, 100000, "cs_test_forged", "evt_forged");

  auto check_refused = [&](const http_reply& r) {
    INFO(r.body);
    CHECK(r.status == 400);
    CHECK(r.error_code() == "invalid_signature");
  };
  // Signed by Stripe's library, but with a secret that is not the farm's.
  check_refused(deliver(env, body, signed_by_stripe(body, "whsec_guessed", now_seconds())));
  // A genuine signature over another body.
  auto genuine = signed_by_stripe(body, secret, now_seconds());
  auto altered = checkout_completed(thief.id, 999999, "cs_test_forged", "evt_forged");
  check_refused(deliver(env, altered, genuine));
  // A genuine delivery captured and replayed ten minutes later.
  check_refused(deliver(env, body, signed_by_stripe(body, secret, now_seconds() - 600)));
  check_refused(deliver(env, body, ""));
  check_refused(deliver(env, body, "t=1,v1=" + std::string(64, '0')));
  CHECK(balance(env, thief) == before);

  // The old ways to credits without paying stay shut.
  auto upgrade = env.send("POST", "/api/v1/subscriptions/upgrade", {{"plan", "enterprise"}},
                          {"Authorization: Bearer " + thief.access});
  CHECK(upgrade.status == 503);
  auto purchase =
      env.send("POST", "/api/v1/credits/purchase", {{"amount", 500}, {"payment_ref", "pi_fake"}},
               {"Authorization: Bearer " + thief.access, "Idempotency-Key: fake-1"});
  CHECK(purchase.status == 403);
  CHECK(balance(env, thief) == before);
}

TEST_CASE("without a signing secret the webhook says billing is off", "[gateway][billing]") {
  gateway_env env;
  auto body = checkout_completed("00000000-0000-0000-0000-000000000000", 1, "cs_x", "evt_x");
  auto r = deliver(env, body, billing::stripe_signature_header(body, "", now_seconds()));
  CHECK(r.status == 503);
  CHECK(r.error_code() == "billing_disabled");
}
