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
    credited,          ///< credits were bought now
    already_credited,  ///< this session's credits were bought by an earlier delivery
    ignored,           ///< an event that moves no credits (see `note`)
  };
  std::string event_id;
  std::string type;
  effect what = effect::ignored;
  std::string user_id;  ///< who was credited
  std::int64_t credits = 0;
  std::string note;  ///< why an event was ignored
};

/// The most credits one Checkout Session may carry.
inline constexpr std::int64_t max_credits_per_session = 1'000'000;

/// Applies Stripe events whose signature was verified (verify_stripe_signature)
/// to the ledger; see billing/README.md for which and how. Thread-safe (the
/// ledger is).
class stripe_webhook {
 public:
  explicit stripe_webhook(credit_ledger& ledger) : ledger_(ledger) {}

  /// Applies one event (the raw body). Errors: malformed_event (not an event
  /// object: answer 400), invalid_event (an event about a session Reelfarm
  /// cannot have created, or for a user that does not exist: acknowledge, it
  /// will not get better), ledger (retry: answer 500 so Stripe delivers
  /// again).
  result<webhook_outcome> apply(std::string_view payload);

 private:
  credit_ledger& ledger_;
};

}  // namespace reelfarm::billing
