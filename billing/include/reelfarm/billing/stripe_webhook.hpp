#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/credit_ledger.hpp"

namespace reelfarm::billing {

/// What one Stripe event did.
struct webhook_outcome {
  enum class effect {
    credited,         ///< a credit pack was bought now
    already_applied,  ///< an earlier delivery (of this or a twin event) did it
    subscribed,       ///< a plan was bought: the user is on it, with its credits
    renewed,          ///< a paid renewal reset the plan's credits
    past_due,         ///< a renewal failed: the grace period runs
    plan_ended,       ///< the subscription ended: back to the default plan
    updated,          ///< the subscription's state was recorded (period, cancellation)
    reversed,         ///< a refunded payment's unused credits were taken back
    ignored,          ///< an event that changes nothing here (see `note`)
  };
  std::string event_id;
  std::string type;
  effect what = effect::ignored;
  std::string user_id;       ///< whose account it touched
  std::int64_t credits = 0;  ///< credits in (or out, for reversed)
  std::string note;          ///< why an event was ignored
};

/// The name of an effect as the webhook route answers it ("credited").
std::string_view to_string(webhook_outcome::effect e) noexcept;

/// The most credits one Checkout Session may carry.
inline constexpr std::int64_t max_credits_per_session = 1'000'000;

/// Applies Stripe events whose signature was verified (verify_stripe_signature)
/// to the ledger and the billing tables; see billing/README.md for which and
/// how. Each event is applied in one transaction that also stores its id,
/// so any number of deliveries, in any order, apply it once. Thread-safe.
class stripe_webhook {
 public:
  explicit stripe_webhook(credit_ledger& ledger) : ledger_(ledger) {}

  /// Applies one event (the raw body). Errors: malformed_event (not an event
  /// object: answer 400), invalid_event (about something Reelfarm did not
  /// sell, or not what it sold: acknowledge, it will not get better),
  /// not_ready (about a subscription not known yet, an event that overtook
  /// the checkout: answer 500 so Stripe delivers it again later), ledger
  /// (the database failed: retry).
  result<webhook_outcome> apply(std::string_view payload);

 private:
  credit_ledger& ledger_;
};

}  // namespace reelfarm::billing
