#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "reelfarm/billing/billing_options.hpp"
#include "reelfarm/billing/stripe_client.hpp"
#include "reelfarm/common/result.hpp"
#include "reelfarm/store/credit_ledger.hpp"

namespace reelfarm::billing {

/// What a user asks to buy: a plan (a monthly subscription) or a credit
/// pack (one payment). Exactly one is set.
struct checkout_request {
  std::string plan;
  std::string credit_pack;
};

/// A Checkout Session made for a user: where to send the browser.
struct checkout_link {
  std::string session_id;
  std::string url;
  std::int64_t amount_cents = 0;  ///< what Stripe will charge, discount applied
  std::string currency;
  bool discounted = false;
};

/// A user's subscription as Reelfarm last heard of it from Stripe.
struct subscription_view {
  std::string subscription_id;
  std::string plan;
  std::string status;  ///< Stripe's (active, past_due, canceled...) or "lapsed"
  std::optional<std::int64_t> current_period_end;  ///< unix seconds
  bool cancel_at_period_end = false;
  std::optional<std::int64_t> past_due_since;  ///< unix seconds
};

/// What a user starts through Stripe: Checkout Sessions for plans and
/// credit packs, the customer portal, cancellation at the period's end,
/// the invoice list; and the end of the grace period of a failed renewal.
/// Credits and plans change only in stripe_webhook, when Stripe reports the
/// payment. Thread-safe.
class billing_service {
 public:
  /// Its database work runs through the ledger's transactions (one pool,
  /// one retry policy for every money table).
  billing_service(billing_options options, credit_ledger& ledger, stripe_client& stripe);

  const billing_options& options() const noexcept { return options_; }

  /// A Checkout Session for `request`, recorded with the amount Stripe will
  /// charge (the webhook checks the payment against it). invalid_request for
  /// an unknown or free plan or pack; conflict when a plan is asked while a
  /// subscription is live; stripe_* when Stripe refuses or is unreachable.
  result<checkout_link> checkout(const std::string& user_id, const checkout_request& request);

  /// The user's live subscription, if any.
  result<std::optional<subscription_view>> subscription(const std::string& user_id);

  /// Cancels the live subscription at the end of the paid period (the plan
  /// stays until then). conflict when there is none.
  result<subscription_view> cancel_at_period_end(const std::string& user_id);

  /// The user's invoices from Stripe, newest first (id, number, status,
  /// amounts, hosted_invoice_url, invoice_pdf, period); empty before the
  /// first checkout.
  result<nlohmann::json> invoices(const std::string& user_id, int limit);

  /// A customer-portal session URL (payment methods, invoices). conflict
  /// before the first checkout (no Stripe customer yet).
  result<std::string> portal_url(const std::string& user_id);

  /// Moves every subscription whose renewal has failed for longer than the
  /// grace period back to the default plan and cancels it at Stripe.
  /// Returns how many lapsed.
  result<std::int64_t> expire_overdue(std::chrono::system_clock::time_point now);

 private:
  result<std::string> customer_of(const std::string& user_id, bool create);
  result<void> ensure_coupon();

  billing_options options_;
  credit_ledger& ledger_;
  stripe_client& stripe_;
  std::atomic<bool> coupon_ready_{false};
};

}  // namespace reelfarm::billing
