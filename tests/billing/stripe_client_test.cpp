// The Stripe client against the local Stripe: Stripe's request format, its
// error shapes and its retry rules (what is retried, with the same
// Idempotency-Key, and what never is).
#include <catch2/catch.hpp>

#include <vector>

#include "reelfarm/billing/errc.hpp"
#include "reelfarm/billing/stripe_client.hpp"
#include "support/local_stripe.hpp"

using namespace reelfarm;
using namespace reelfarm::billing;
using json = nlohmann::json;
using reelfarm::testing::local_stripe;

namespace {

struct client_env {
  local_stripe stripe;
  std::vector<std::chrono::milliseconds> waits;
  stripe_client client{options(stripe.url()),
                       [this](std::chrono::milliseconds d) { waits.push_back(d); }};

  static stripe_client_options options(const std::string& base) {
    stripe_client_options o;
    o.secret_key = local_stripe::secret_key;
    o.api_base = base;
    o.timeout = std::chrono::seconds(10);
    o.max_retries = 3;
    return o;
  }

  void fault(const std::string& kind, const std::string& path, int count, int status = 500) {
    stripe.control("POST", "faults",
                   {{"path", path}, {"kind", kind}, {"count", count}, {"status", status}});
  }

  json state() { return stripe.control("GET", "state"); }

  int customers() {
    auto r = stripe.api("GET", "/v1/customers", "limit=100");
    return static_cast<int>(r.body["data"].size());
  }
};

}  // namespace

TEST_CASE("requests are form-encoded, version-pinned and keyed", "[billing][stripe_client]") {
  client_env env;
  auto made = env.client.post("customers",
                              {{"email", "ada@example.com"},
                               {"name", "Ada & Co = 100%"},
                               {"metadata[reelfarm_user]", "u-1"}},
                              "key-create-1");
  REQUIRE(made);
  CHECK((*made)["object"] == "customer");
  CHECK((*made)["name"] == "Ada & Co = 100%");
  CHECK((*made)["metadata"]["reelfarm_user"] == "u-1");
  auto fetched = env.client.get("customers/" + (*made)["id"].get<std::string>());
  REQUIRE(fetched);
  CHECK((*fetched)["email"] == "ada@example.com");
  auto state = env.state();
  CHECK(state["stripe_versions"][stripe_api_version] == 2);
  CHECK(state["idempotency_keys"]["key-create-1"] == 1);
  // A POST without a key is never sent: a retry could apply it twice.
  auto unkeyed = env.client.post("customers", {{"email", "x@example.com"}}, "");
  REQUIRE_FALSE(unkeyed);
  CHECK(unkeyed.error().is(billing_errc::invalid_request));
  CHECK(env.customers() == 1);
}

TEST_CASE("5xx, 409 and lost answers are retried with the same key, applied once",
          "[billing][stripe_client]") {
  client_env env;
  env.fault("status", "/v1/customers", 2, 500);
  auto after_500s = env.client.post("customers", {{"email", "a@example.com"}}, "key-a");
  REQUIRE(after_500s);
  CHECK(env.client.stats().retries == 2);
  CHECK(env.waits.size() == 2);

  env.fault("in_use", "/v1/customers", 1);
  auto after_409 = env.client.post("customers", {{"email", "b@example.com"}}, "key-b");
  REQUIRE(after_409);
  CHECK(env.client.stats().retries == 3);

  // Stripe applied it but the answer was lost: the retry gets the stored one.
  env.fault("drop_after_apply", "/v1/customers", 1);
  auto after_drop = env.client.post("customers", {{"email", "c@example.com"}}, "key-c");
  REQUIRE(after_drop);
  CHECK(env.client.stats().retries == 4);
  CHECK(env.state()["idempotency_keys"]["key-c"] == 2);
  CHECK(env.customers() == 3);
  for (auto d : env.waits) {
    CHECK(d.count() >= 250);  // half of the 500 ms base at least (equal jitter)
    CHECK(d.count() <= 8000);
  }
}

TEST_CASE("declined cards, bad requests and bad keys are not retried", "[billing][stripe_client]") {
  client_env env;
  env.fault("card_declined", "/v1/customers", 1);
  auto declined = env.client.post("customers", {{"email", "d@example.com"}}, "key-d");
  REQUIRE_FALSE(declined);
  CHECK(declined.error().is(billing_errc::stripe_card));
  CHECK(declined.error().message().find("card_declined") != std::string::npos);

  auto missing = env.client.post("checkout/sessions", {{"mode", "payment"}}, "key-e");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().is(billing_errc::stripe_refused));
  CHECK(missing.error().message().find("param") != std::string::npos);
  CHECK(missing.error().message().find("[request req_") != std::string::npos);

  auto unknown = env.client.get("customers/cus_nope");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().is(billing_errc::stripe_refused));
  CHECK(unknown.error().message().find("resource_missing") != std::string::npos);
  CHECK(env.client.stats().retries == 0);

  auto options = client_env::options(env.stripe.url());
  options.secret_key = "sk_test_wrong_key_123456";
  stripe_client wrong(options, [](std::chrono::milliseconds) {});
  auto refused = wrong.get("customers");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(billing_errc::stripe_auth));
  // Stripe masks the key it was given; the client adds nothing of its own.
  CHECK(refused.error().message().find("sk_test_wrong_key_123456") == std::string::npos);
  CHECK(wrong.stats().retries == 0);
}

TEST_CASE("an unreachable Stripe is retried, then reported unavailable",
          "[billing][stripe_client]") {
  stripe_client_options o;
  o.secret_key = "sk_test_x";
  o.api_base = "http://127.0.0.1:9";  // discard port: nothing answers
  o.max_retries = 2;
  o.connect_timeout = std::chrono::seconds(2);
  int waits = 0;
  stripe_client client(o, [&](std::chrono::milliseconds) { ++waits; });
  auto r = client.post("customers", {{"email", "x@example.com"}}, "key-x");
  REQUIRE_FALSE(r);
  CHECK(r.error().is(billing_errc::stripe_unavailable));
  CHECK(client.stats().requests == 3);
  CHECK(waits == 2);
  CHECK(r.error().message().find("sk_test_x") == std::string::npos);
}

TEST_CASE("parameters are encoded as Stripe's form notation", "[billing][stripe_client]") {
  CHECK(form_encode({{"line_items[0][price_data][unit_amount]", "500"},
                     {"expand[]", "subscription"},
                     {"name", "a b&c=d/é"}}) ==
        "line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=500&expand%5B%5D=subscription&"
        "name=a%20b%26c%3Dd%2F%C3%A9");
  CHECK(form_encode({}).empty());
}
