#include "reelfarm/billing/errc.hpp"

namespace reelfarm {

std::string_view category_of(billing_errc) noexcept {
  return "billing";
}

std::string_view to_string(billing_errc code) noexcept {
  switch (code) {
    case billing_errc::disabled:
      return "disabled";
    case billing_errc::bad_signature:
      return "bad_signature";
    case billing_errc::malformed_event:
      return "malformed_event";
    case billing_errc::invalid_event:
      return "invalid_event";
    case billing_errc::ledger:
      return "ledger";
    case billing_errc::not_ready:
      return "not_ready";
    case billing_errc::stripe_refused:
      return "stripe_refused";
    case billing_errc::stripe_card:
      return "stripe_card";
    case billing_errc::stripe_auth:
      return "stripe_auth";
    case billing_errc::stripe_unavailable:
      return "stripe_unavailable";
    case billing_errc::stripe_bad_response:
      return "stripe_bad_response";
    case billing_errc::invalid_request:
      return "invalid_request";
    case billing_errc::conflict:
      return "conflict";
  }
  return "unknown";
}

}  // namespace reelfarm
