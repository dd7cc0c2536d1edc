// Billing (issue #20): Stripe's webhook. The body is checked against the
// Stripe-Signature header before anything is read from it; a verified event
// is applied through the ledger exactly once (billing/README.md).
#include "api_state.hpp"
#include "reelfarm/billing/errc.hpp"
#include "reelfarm/billing/stripe_signature.hpp"
#include "reelfarm/billing/stripe_webhook.hpp"
#include "reelfarm/common/log.hpp"

namespace reelfarm::gateway {
namespace {

using json = nlohmann::json;

const char* effect_name(billing::webhook_outcome::effect e) {
  switch (e) {
    case billing::webhook_outcome::effect::credited:
      return "credited";
    case billing::webhook_outcome::effect::already_credited:
      return "already_credited";
    case billing::webhook_outcome::effect::ignored:
      return "ignored";
  }
  return "ignored";
}

// Stripe reads only the status: 2xx ends the deliveries of an event, anything
// else is retried for up to three days. So: 400 for what no retry can fix
// (a forged or stale signature, a body that is no event), 500 for what may
// (the database), 200 for everything applied, already applied or ignored.
http_response webhook(api_state& s, request_context& ctx) {
  const auto& secret = s.options.stripe_webhook_secret;
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
    log::error("billing", "webhook event not applied; Stripe will retry", {{"error", e.message()}});
    return error_response(500, "internal", "the event could not be applied now; retry");
  }
  return json_response(200, dump_json({{"received", true},
                                       {"event", applied->event_id},
                                       {"effect", effect_name(applied->what)}}));
}

}  // namespace

void add_billing_routes(api_state& s) {
  auto& r = s.routes;
  r.add({"POST", "/api/v1/billing/webhook", access::anyone, limit_class::standard, true,
         [&s](request_context& ctx) { return webhook(s, ctx); }});
}

}  // namespace reelfarm::gateway
