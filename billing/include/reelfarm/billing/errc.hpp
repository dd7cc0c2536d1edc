#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of billing: Stripe's API, its webhook signatures and events.
enum class billing_errc {
  disabled = 1,         ///< billing is not configured (no Stripe keys)
  bad_signature,        ///< the Stripe-Signature header is missing, malformed, stale or wrong
  malformed_event,      ///< the body is not a Stripe event object
  invalid_event,        ///< an event about a session Reelfarm could not have created
  ledger,               ///< the ledger refused or failed; Stripe should retry
  not_ready,            ///< an event about something not known yet (ordering); retry later
  stripe_refused,       ///< Stripe answered 4xx: the request is wrong (type/code say how)
  stripe_card,          ///< Stripe answered 402: the card was declined
  stripe_auth,          ///< Stripe answered 401/403: the secret key is wrong or lacks rights
  stripe_unavailable,   ///< no answer, 409, 429 or 5xx after every retry
  stripe_bad_response,  ///< an answer that is not the JSON Stripe documents
  invalid_request,      ///< the caller asked for something not sold (unknown plan or pack)
  conflict,             ///< the request clashes with the account's state (a live subscription)
};

std::string_view category_of(billing_errc) noexcept;
std::string_view to_string(billing_errc code) noexcept;

}  // namespace reelfarm
