// The local Stripe (local_stripe/local_stripe.py) that the billing tests run
// against: Stripe's own Node library works with it (stripe_node_interop.mjs),
// and its controls do what the billing tests rely on: the test clock renews
// subscriptions and runs dunning, webhooks are retried, duplicated and
// reordered on demand, and faults and idempotency behave as Stripe documents.
#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/testing/temp_dir.hpp"
#include "support/local_stripe.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;
using json = nlohmann::json;

namespace {

/// A server whose webhooks go to its own recording receiver.
struct fixture {
  local_stripe stripe;
  fixture() { stripe.control("POST", "webhook", {{"url", stripe.sink_url()}}); }

  json post(const std::string& path, const std::string& form) {
    auto r = stripe.api("POST", path, form);
    INFO(path << " " << form << " -> " << r.status << " " << r.body.dump());
    REQUIRE(r.status == 200);
    return r.body;
  }
  json get(const std::string& path, const std::string& query = "") {
    auto r = stripe.api("GET", path, query);
    INFO(path << " -> " << r.status << " " << r.body.dump());
    REQUIRE(r.status == 200);
    return r.body;
  }

  /// A customer subscribed to a monthly price of 2900 through Checkout.
  json subscribe() {
    auto customer = post("/v1/customers", "email=sub%40example.com");
    auto product = post("/v1/products", "name=Studio");
    auto price =
        post("/v1/prices", "currency=usd&unit_amount=2900&recurring[interval]=month&product=" +
                               product["id"].get<std::string>());
    auto session = post("/v1/checkout/sessions",
                        "mode=subscription&success_url=https%3A%2F%2Ffarm.example%2Fok&customer=" +
                            customer["id"].get<std::string>() +
                            "&line_items[0][price]=" + price["id"].get<std::string>() +
                            "&line_items[0][quantity]=1&subscription_data[metadata][plan]=studio");
    auto done =
        stripe.control("POST", "checkout/" + session["id"].get<std::string>() + "/complete");
    REQUIRE(done["status"] == "complete");
    return get("/v1/subscriptions/" + done["subscription"].get<std::string>());
  }

  /// Moves the clock to one second past the subscription's period end.
  void pass_period_end(const json& sub) {
    auto now = stripe.control("GET", "clock")["now"].get<std::int64_t>();
    stripe.control("POST", "clock/advance",
                   {{"seconds", sub["current_period_end"].get<std::int64_t>() - now + 1}});
  }

  /// The types of the events the sink received, in order.
  std::vector<std::string> received_types() {
    stripe.wait_for_deliveries();
    std::vector<std::string> types;
    const auto sink = stripe.control("GET", "sink");
    for (const auto& r : sink["received"]) {
      CHECK(r["signature_ok"] == true);
      types.push_back(r["event"]["type"]);
    }
    return types;
  }
  json received_events() {
    stripe.wait_for_deliveries();
    json events = json::array();
    const auto sink = stripe.control("GET", "sink");
    for (const auto& r : sink["received"]) {
      events.push_back(r["event"]);
    }
    return events;
  }
};

constexpr std::int64_t day = 86400;

}  // namespace

TEST_CASE("Stripe's Node library works against the local Stripe", "[billing][stripe]") {
  local_stripe stripe;
  temp_dir dir;
  process_options p;
  p.working_dir = REELFARM_WEB_TESTS_DIR;  // where npm put node_modules/stripe
  p.argv = {REELFARM_NODE_JS,
            std::string(REELFARM_SOURCE_DIR) + "/tests/billing/stripe_node_interop.mjs"};
  p.extra_environment = {
      "LOCAL_STRIPE_URL=" + stripe.url(),
      std::string("LOCAL_STRIPE_KEY=") + local_stripe::secret_key,
      std::string("LOCAL_STRIPE_WEBHOOK_SECRET=") + local_stripe::webhook_secret};
  p.output_file = (dir.path() / "node.log").string();
  auto status = run_program(p, std::chrono::seconds(120));
  auto output = read_file(dir.path() / "node.log");
  INFO("node: " << (output ? *output : std::string("(no output)"))
                << " (tests/web/install.sh installs Stripe's library)");
  REQUIRE(status);
  CHECK(*status == 0);
  REQUIRE(output);
  CHECK(output->find("ok webhook signatures accepted by constructEvent") != std::string::npos);
  CHECK(output->find("interop passed") != std::string::npos);
}

TEST_CASE("A subscription renews when the test clock passes its period end", "[billing][stripe]") {
  fixture f;
  auto sub = f.subscribe();
  REQUIRE(sub["status"] == "active");
  REQUIRE(sub["metadata"]["plan"] == "studio");
  REQUIRE(sub["items"]["data"][0]["price"]["unit_amount"] == 2900);
  const auto first_end = sub["current_period_end"].get<std::int64_t>();
  CHECK(first_end - sub["current_period_start"].get<std::int64_t>() >= 28 * day);
  CHECK(first_end - sub["current_period_start"].get<std::int64_t>() <= 31 * day);

  f.pass_period_end(sub);
  auto renewed =
      f.get("/v1/subscriptions/" + sub["id"].get<std::string>(), "expand[]=latest_invoice");
  CHECK(renewed["status"] == "active");
  CHECK(renewed["current_period_start"] == first_end);
  CHECK(renewed["latest_invoice"]["billing_reason"] == "subscription_cycle");
  CHECK(renewed["latest_invoice"]["status"] == "paid");
  CHECK(renewed["latest_invoice"]["amount_paid"] == 2900);
  CHECK(renewed["latest_invoice"]["period_start"] == first_end);

  auto invoices = f.get("/v1/invoices", "subscription=" + sub["id"].get<std::string>());
  REQUIRE(invoices["data"].size() == 2);
  CHECK(invoices["data"][1]["billing_reason"] == "subscription_create");

  CHECK(f.received_types() ==
        std::vector<std::string>{"customer.subscription.created", "invoice.created", "invoice.paid",
                                 "invoice.payment_succeeded", "checkout.session.completed",
                                 "invoice.created", "invoice.paid", "invoice.payment_succeeded",
                                 "customer.subscription.updated"});
  auto events = f.received_events();
  CHECK(events.back()["data"]["previous_attributes"]["current_period_start"] ==
        sub["current_period_start"]);
  CHECK(events.back()["request"]["id"].is_null());

  // Cancelling at the period end: an update now, the end (and no invoice) later.
  auto updated =
      f.post("/v1/subscriptions/" + sub["id"].get<std::string>(), "cancel_at_period_end=true");
  CHECK(updated["cancel_at_period_end"] == true);
  f.pass_period_end(updated);
  auto ended = f.get("/v1/subscriptions/" + sub["id"].get<std::string>());
  CHECK(ended["status"] == "canceled");
  CHECK(f.get("/v1/invoices", "subscription=" + sub["id"].get<std::string>())["data"].size() == 2);
  auto types = f.received_types();
  REQUIRE(types.size() == 11);
  CHECK(types[9] == "customer.subscription.updated");
  CHECK(types[10] == "customer.subscription.deleted");
  CHECK(f.received_events()[9]["data"]["previous_attributes"]["cancel_at_period_end"] == false);
}

TEST_CASE("Failed renewals make a subscription past due, then canceled", "[billing][stripe]") {
  fixture f;
  auto sub = f.subscribe();
  const auto customer = sub["customer"].get<std::string>();
  f.stripe.control("POST", "customers/" + customer + "/payments", {{"fail", true}});

  f.pass_period_end(sub);
  auto past_due =
      f.get("/v1/subscriptions/" + sub["id"].get<std::string>(), "expand[]=latest_invoice");
  CHECK(past_due["status"] == "past_due");
  const auto& invoice = past_due["latest_invoice"];
  CHECK(invoice["status"] == "open");
  CHECK(invoice["attempt_count"] == 1);
  // The renewal ran at the old period's end, the new period's start.
  CHECK(invoice["next_payment_attempt"] ==
        past_due["current_period_start"].get<std::int64_t>() + 3 * day);

  f.stripe.control("POST", "clock/advance", {{"seconds", 3 * day}});
  auto second = f.get("/v1/invoices/" + invoice["id"].get<std::string>());
  CHECK(second["attempt_count"] == 2);
  CHECK(f.get("/v1/subscriptions/" + sub["id"].get<std::string>())["status"] == "past_due");

  f.stripe.control("POST", "clock/advance", {{"seconds", 3 * day}});
  auto third = f.get("/v1/invoices/" + invoice["id"].get<std::string>());
  CHECK(third["attempt_count"] == 3);
  CHECK(third["next_payment_attempt"].is_null());
  CHECK(f.get("/v1/subscriptions/" + sub["id"].get<std::string>())["status"] == "canceled");

  auto types = f.received_types();
  const std::vector<std::string> tail(types.begin() + 5, types.end());
  CHECK(tail == std::vector<std::string>{"invoice.created", "invoice.payment_failed",
                                         "customer.subscription.updated", "invoice.payment_failed",
                                         "invoice.payment_failed",
                                         "customer.subscription.deleted"});
  auto events = f.received_events();
  CHECK(events[7]["data"]["object"]["status"] == "past_due");
  CHECK(events[7]["data"]["previous_attributes"]["status"] == "active");
}

TEST_CASE("A renewal paid on a retry makes the subscription active again", "[billing][stripe]") {
  fixture f;
  auto sub = f.subscribe();
  const auto customer = sub["customer"].get<std::string>();
  f.stripe.control("POST", "customers/" + customer + "/payments", {{"fail", true}});
  f.pass_period_end(sub);
  f.stripe.control("POST", "customers/" + customer + "/payments", {{"fail", false}});
  f.stripe.control("POST", "clock/advance", {{"seconds", 3 * day}});
  auto back = f.get("/v1/subscriptions/" + sub["id"].get<std::string>(), "expand[]=latest_invoice");
  CHECK(back["status"] == "active");
  CHECK(back["latest_invoice"]["status"] == "paid");
  CHECK(back["latest_invoice"]["attempt_count"] == 2);
  auto types = f.received_types();
  const std::vector<std::string> tail(types.end() - 3, types.end());
  CHECK(tail == std::vector<std::string>{"invoice.paid", "invoice.payment_succeeded",
                                         "customer.subscription.updated"});
}

TEST_CASE("Webhook deliveries can be duplicated, held and reversed", "[billing][stripe]") {
  fixture f;
  auto pay = [&] {
    auto s = f.post("/v1/checkout/sessions",
                    "mode=payment&success_url=https%3A%2F%2Ffarm.example%2Fok"
                    "&line_items[0][price_data][currency]=usd"
                    "&line_items[0][price_data][unit_amount]=500"
                    "&line_items[0][price_data][product_data][name]=Credits"
                    "&line_items[0][quantity]=1");
    f.stripe.control("POST", "checkout/" + s["id"].get<std::string>() + "/complete");
  };

  SECTION("duplicate") {
    f.stripe.control("POST", "webhook", {{"duplicate", true}});
    pay();
    auto events = f.received_events();
    REQUIRE(events.size() == 6);
    CHECK(events[0]["id"] == events[1]["id"]);
    CHECK(events[4]["type"] == "checkout.session.completed");
    CHECK(events[5]["id"] == events[4]["id"]);
  }
  SECTION("reverse") {
    f.stripe.control("POST", "webhook", {{"reverse", true}});
    pay();
    auto waited = f.stripe.control("POST", "webhook/wait", {{"timeout_s", 10}});
    CHECK(waited["held"] == 3);
    CHECK(f.stripe.control("GET", "sink")["received"].empty());
    f.stripe.control("POST", "webhook/flush");
    CHECK(f.received_types() == std::vector<std::string>{"checkout.session.completed",
                                                         "charge.succeeded",
                                                         "payment_intent.succeeded"});
  }
  SECTION("hold") {
    f.stripe.control("POST", "webhook", {{"hold", true}});
    pay();
    f.stripe.control("POST", "webhook/flush");
    CHECK(f.received_types() == std::vector<std::string>{"payment_intent.succeeded",
                                                         "charge.succeeded",
                                                         "checkout.session.completed"});
  }
  SECTION("a second signature while the secret rolls") {
    f.stripe.control("POST", "webhook", {{"also_sign_with", "whsec_old"}});
    pay();
    f.stripe.wait_for_deliveries();
    auto r = f.stripe.control("GET", "sink")["received"][0];
    const auto header = r["headers"]["Stripe-Signature"].get<std::string>();
    CHECK(header.starts_with("t="));
    CHECK(header.find(",v1=") != std::string::npos);
    CHECK(header.find(",v1=", header.find(",v1=") + 1) != std::string::npos);
    CHECK(r["signature_ok"] == true);
  }
}

TEST_CASE("A failing webhook receiver gets retries until it answers 2xx", "[billing][stripe]") {
  fixture f;
  f.stripe.control("POST", "sink/fail", {{"count", 2}, {"status", 500}});
  f.post("/v1/customers", "email=x%40example.com");  // no event: nothing to deliver
  auto s = f.post("/v1/checkout/sessions",
                  "mode=payment&success_url=https%3A%2F%2Ffarm.example%2Fok"
                  "&line_items[0][price_data][currency]=usd"
                  "&line_items[0][price_data][unit_amount]=500"
                  "&line_items[0][price_data][product_data][name]=Credits"
                  "&line_items[0][quantity]=1");
  f.stripe.control("POST", "checkout/" + s["id"].get<std::string>() + "/complete");
  auto deliveries = f.stripe.wait_for_deliveries();
  // The first two events failed once each (a failing event does not hold up
  // the ones after it), then went through on their second attempt.
  REQUIRE(deliveries.size() == 5);
  std::map<std::string, std::vector<std::pair<int, int>>> attempts;  // type: (attempt, status)
  for (const auto& d : deliveries) {
    attempts[d["type"].get<std::string>()].emplace_back(d["attempt"].get<int>(),
                                                        d["status"].get<int>());
  }
  using tries = std::vector<std::pair<int, int>>;
  CHECK(attempts["payment_intent.succeeded"] == tries{{1, 500}, {2, 200}});
  CHECK(attempts["charge.succeeded"] == tries{{1, 500}, {2, 200}});
  CHECK(attempts["checkout.session.completed"] == tries{{1, 200}});
  CHECK(f.stripe.control("GET", "sink")["received"].size() == 5);

  // A receiver that never recovers is given up after max_attempts.
  f.stripe.control("POST", "webhook", {{"max_attempts", 2}});
  f.stripe.control("POST", "sink/fail", {{"count", 100}, {"status", 503}});
  auto s2 = f.post("/v1/checkout/sessions",
                   "mode=payment&success_url=https%3A%2F%2Ffarm.example%2Fok"
                   "&line_items[0][price_data][currency]=usd"
                   "&line_items[0][price_data][unit_amount]=500"
                   "&line_items[0][price_data][product_data][name]=Credits"
                   "&line_items[0][quantity]=1");
  f.post("/v1/checkout/sessions/" + s2["id"].get<std::string>() + "/expire", "");
  deliveries = f.stripe.wait_for_deliveries();
  REQUIRE(deliveries.size() == 7);
  CHECK(deliveries[5]["type"] == "checkout.session.expired");
  CHECK(deliveries[6]["attempt"] == 2);
  CHECK(deliveries[6]["status"] == 503);
}

TEST_CASE("Idempotency keys and faults behave as Stripe documents", "[billing][stripe]") {
  fixture f;
  const std::string form = "email=a%40example.com&metadata[k]=v";
  auto first = f.stripe.api("POST", "/v1/customers", form, {"Idempotency-Key: k-1"});
  REQUIRE(first.status == 200);
  auto replay = f.stripe.api("POST", "/v1/customers", form, {"Idempotency-Key: k-1"});
  CHECK(replay.status == 200);
  CHECK(replay.replayed);
  CHECK(replay.body["id"] == first.body["id"]);
  auto other =
      f.stripe.api("POST", "/v1/customers", "email=b%40example.com", {"Idempotency-Key: k-1"});
  CHECK(other.status == 400);
  CHECK(other.body["error"]["type"] == "idempotency_error");

  SECTION("a request in flight holds its key") {
    f.stripe.control("POST", "faults",
                     {{"path", "/v1/customers"}, {"kind", "delay"}, {"ms", 1500}});
    auto slow = std::async(std::launch::async, [&] {
      return f.stripe.api("POST", "/v1/customers", form, {"Idempotency-Key: k-2"});
    });
    // Wait until the server has the slow one (its key is counted on arrival).
    for (int i = 0; i < 200; ++i) {
      auto keys = f.stripe.control("GET", "state")["idempotency_keys"];
      if (keys.contains("k-2"))
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto busy = f.stripe.api("POST", "/v1/customers", form, {"Idempotency-Key: k-2"});
    CHECK(busy.status == 409);
    CHECK(busy.body["error"]["code"] == "idempotency_key_in_use");
    CHECK(slow.get().status == 200);
  }
  SECTION("a 500 is not kept and a retry succeeds") {
    f.stripe.control("POST", "faults", {{"path", "/v1/customers"}, {"kind", "status"}});
    auto failed = f.stripe.api("POST", "/v1/customers", form, {"Idempotency-Key: k-3"});
    CHECK(failed.status == 500);
    CHECK(failed.body["error"]["type"] == "api_error");
    auto retried = f.stripe.api("POST", "/v1/customers", form, {"Idempotency-Key: k-3"});
    CHECK(retried.status == 200);
    CHECK_FALSE(retried.replayed);
    CHECK(f.stripe.control("GET", "state")["idempotency_keys"]["k-3"] == 2);
  }
  SECTION("a dropped answer after the change replays on retry") {
    f.stripe.control("POST", "faults", {{"path", "/v1/customers"}, {"kind", "drop_after_apply"}});
    CHECK_THROWS(f.stripe.api("POST", "/v1/customers", form, {"Idempotency-Key: k-4"}));
    auto retried = f.stripe.api("POST", "/v1/customers", form, {"Idempotency-Key: k-4"});
    CHECK(retried.status == 200);
    CHECK(retried.replayed);
    CHECK(f.stripe.control("GET", "state")["counts"]["customers"] == 2);
  }
  SECTION("a plain drop changes nothing") {
    f.stripe.control("POST", "faults", {{"path", "/v1/customers"}, {"kind", "drop"}});
    CHECK_THROWS(f.stripe.api("POST", "/v1/customers", form, {"Idempotency-Key: k-5"}));
    CHECK(f.stripe.control("GET", "state")["counts"]["customers"] == 1);
  }
  SECTION("bad requests") {
    auto r = f.stripe.api("POST", "/v1/checkout/sessions",
                          "mode=payment&success_url=https%3A%2F%2Fx.example"
                          "&line_items[0][price_data][currency]=usd"
                          "&line_items[0][price_data][unit_amount]=abc"
                          "&line_items[0][price_data][product_data][name]=C"
                          "&line_items[0][quantity]=1");
    CHECK(r.status == 400);
    CHECK(r.body["error"]["code"] == "parameter_invalid_integer");
    CHECK(r.body["error"]["param"] == "line_items[0][price_data][unit_amount]");
    r = f.stripe.api("POST", "/v1/customers", form, {"Stripe-Version: yesterday"});
    CHECK(r.status == 400);
    r = f.stripe.api("GET", "/v1/customers/cus_nope");
    CHECK(r.status == 404);
    CHECK(r.body["error"]["code"] == "resource_missing");
    CHECK(r.body["error"]["message"] == "No such customer: 'cus_nope'");
    CHECK(f.stripe.api("POST", "/v1/customers", std::string(2 << 20, 'a')).status == 413);
  }
}
