// Billing (issue #20): Stripe Checkout for plans and credit packs, the
// customer portal, invoices, cancellation at the period's end, and Stripe's
// webhook. Credits and plans change only in the webhook, on Stripe's signed
// word that a payment succeeded (billing/README.md).
#include <array>

#include "api_state.hpp"
#include "reelfarm/billing/errc.hpp"
#include "reelfarm/billing/stripe_signature.hpp"
#include "reelfarm/billing/stripe_webhook.hpp"
#include "reelfarm/common/log.hpp"

namespace reelfarm::gateway {
namespace {

using json = nlohmann::json;

http_response billing_disabled() {
  return error_response(503, "billing_disabled",
                        "billing is not configured on this farm (billing.stripe_secret_key and "
                        "billing.stripe_webhook_secret); plans and credits are changed by an "
                        "administrator");
}

// Billing's errors as answers. Stripe's own messages go to the log; the
// client learns what it can act on.
http_response billing_error(const error& e, const http_request& request) {
  if (e.is(billing_errc::invalid_request)) {
    return error_response(422, "validation_failed", e.message());
  }
  if (e.is(billing_errc::conflict)) {
    return error_response(409, "conflict", e.message());
  }
  if (e.is(billing_errc::disabled)) {
    return billing_disabled();
  }
  if (e.category() == "billing") {
    log::error("billing", "Stripe request failed", {{"error", e.message()}});
    return error_response(502, "payment_provider_error",
                          "the payment provider could not be reached or refused the request; "
                          "try again later");
  }
  return from_error(e, request);
}

json subscription_json(const std::optional<billing::subscription_view>& v) {
  if (!v) {
    return nullptr;
  }
  json j = {{"id", v->subscription_id},
            {"plan", v->plan},
            {"status", v->status},
            {"cancel_at_period_end", v->cancel_at_period_end}};
  j["current_period_end"] = v->current_period_end ? json(*v->current_period_end) : json(nullptr);
  j["past_due_since"] = v->past_due_since ? json(*v->past_due_since) : json(nullptr);
  return j;
}

http_response checkout(api_state& s, request_context& ctx) {
  static constexpr std::array<field_spec, 2> fields{{
      {"plan", json_kind::string, false, 64},
      {"credit_pack", json_kind::string, false, 64},
  }};
  return with_json(ctx.request, fields, [&](const json& body) {
    billing::checkout_request want{string_field(body, "plan"), string_field(body, "credit_pack")};
    auto link = s.billing.checkout(ctx.caller->user_id, want);
    if (!link) {
      return billing_error(link.error(), ctx.request);
    }
    return json_response(201, dump_json({{"url", link->url},
                                         {"session_id", link->session_id},
                                         {"amount_cents", link->amount_cents},
                                         {"currency", link->currency},
                                         {"discounted", link->discounted}}));
  });
}

// What can be bought: the plans with a price and the packs, with the
// caller's discount.
http_response offers(api_state& s, request_context& ctx) {
  auto user = s.accounts.get(ctx.caller->user_id);
  if (!user) {
    return from_error(user.error(), ctx.request);
  }
  auto live = s.billing.subscription(ctx.caller->user_id);
  if (!live) {
    return billing_error(live.error(), ctx.request);
  }
  const auto& o = s.options.billing;
  json plans = json::array();
  for (const auto& p : s.plans.plans()) {
    plans.push_back({{"name", p.name},
                     {"display_name", p.display_name},
                     {"price_cents", p.price_cents},
                     {"monthly_credits", p.monthly_credits ? json(*p.monthly_credits) : json()},
                     {"purchasable", p.price_cents > 0}});
  }
  json packs = json::array();
  for (const auto& p : o.credit_packs) {
    packs.push_back({{"name", p.name}, {"credits", p.credits}, {"price_cents", p.price_cents}});
  }
  return json_response(
      200, dump_json(
               {{"currency", o.currency},
                {"plan", user->plan},
                {"plans", plans},
                {"credit_packs", packs},
                {"subscription", subscription_json(*live)},
                {"data_sharing_opt_in", user->data_sharing_opt_in},
                {"discount_percent", user->data_sharing_opt_in ? o.data_sharing_percent_off : 0}}));
}

http_response cancel(api_state& s, request_context& ctx) {
  auto done = s.billing.cancel_at_period_end(ctx.caller->user_id);
  if (!done) {
    return billing_error(done.error(), ctx.request);
  }
  return json_response(200, dump_json({{"subscription", subscription_json(*done)}}));
}

http_response invoices(api_state& s, request_context& ctx) {
  int limit = 20;
  if (auto v = ctx.request.query_param("limit")) {
    auto n = parse_integer(*v, 1, 100);
    if (!n) {
      return error_response(400, "invalid_parameter", "limit must be an integer from 1 to 100");
    }
    limit = static_cast<int>(*n);
  }
  auto list = s.billing.invoices(ctx.caller->user_id, limit);
  if (!list) {
    return billing_error(list.error(), ctx.request);
  }
  return json_response(200, dump_json(*list));
}

http_response portal(api_state& s, request_context& ctx) {
  auto url = s.billing.portal_url(ctx.caller->user_id);
  if (!url) {
    return billing_error(url.error(), ctx.request);
  }
  return json_response(201, dump_json({{"url", *url}}));
}

// Stripe reads only the status: 2xx ends the deliveries of an event, anything
// else is retried for up to three days. So: 400 for what no retry can fix
// (a forged or stale signature, a body that is no event), 500 for what may
// (the database, an event that overtook the one it depends on), 200 for
// everything applied, already applied or ignored.
http_response webhook(api_state& s, request_context& ctx) {
  const auto& secret = s.options.billing.webhook_secret;
  if (secret.empty()) {
    return error_response(503, "billing_disabled",
                          "billing is not configured on this farm (billing.stripe_webhook_secret)");
  }
  auto signature = ctx.request.header("stripe-signature");
  auto verified =
      billing::verify_stripe_signature(signature ? *signature : std::string_view(),
                                       ctx.request.body, secret, std::chrono::system_clock::now());
  if (!verified) {
    log::warn("billing", "webhook refused", {{"error", verified.error().message()}});
    return error_response(400, "invalid_signature", verified.error().message());
  }
  billing::stripe_webhook events(s.ledger);
  auto applied = events.apply(ctx.request.body);
  if (!applied) {
    const auto& e = applied.error();
    if (e.is(billing_errc::malformed_event)) {
      return error_response(400, "malformed_event", e.message());
    }
    if (e.is(billing_errc::invalid_event)) {
      // Signed by Stripe but about nothing Reelfarm sold: no retry will help.
      log::error("billing", "webhook event not applicable", {{"error", e.message()}});
      return json_response(200, dump_json({{"received", true}, {"applied", false}}));
    }
    log::warn("billing", "webhook event not applied; Stripe will retry", {{"error", e.message()}});
    return error_response(500, "retry_later", "the event could not be applied now; retry");
  }
  return json_response(200, dump_json({{"received", true},
                                       {"event", applied->event_id},
                                       {"effect", std::string(to_string(applied->what))}}));
}

}  // namespace

void add_billing_routes(api_state& s) {
  // The webhook answers without Stripe's keys itself (it needs only the
  // signing secret); every other route needs billing on.
  auto billed = [&s](http_response (*f)(api_state&, request_context&)) {
    return [&s, f](request_context& ctx) {
      return s.options.billing.enabled() ? f(s, ctx) : billing_disabled();
    };
  };
  auto& r = s.routes;
  r.add({"POST", "/api/v1/billing/webhook", access::anyone, limit_class::standard, true,
         [&s](request_context& ctx) { return webhook(s, ctx); }});
  r.add({"GET", "/api/v1/billing", access::creator, limit_class::standard, true, billed(offers)});
  r.add({"POST", "/api/v1/billing/checkout", access::creator, limit_class::standard, true,
         billed(checkout)});
  r.add({"POST", "/api/v1/billing/subscription/cancel", access::creator, limit_class::standard,
         true, billed(cancel)});
  r.add({"GET", "/api/v1/billing/invoices", access::creator, limit_class::standard, true,
         billed(invoices)});
  r.add({"POST", "/api/v1/billing/portal", access::creator, limit_class::standard, true,
         billed(portal)});
}

}  // namespace reelfarm::gateway
