#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of billing: webhook signatures and events.
enum class billing_errc {
  disabled = 1,     ///< billing is not configured (no webhook signing secret)
  bad_signature,    ///< the Stripe-Signature header is missing, malformed, stale or wrong
  malformed_event,  ///< the body is not a Stripe event object
  invalid_event,    ///< an event about a session Reelfarm could not have created
  ledger,           ///< the ledger refused or failed; Stripe should retry
};

std::string_view category_of(billing_errc) noexcept;
std::string_view to_string(billing_errc code) noexcept;

}  // namespace reelfarm
