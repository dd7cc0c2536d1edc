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
  }
  return "unknown";
}

}  // namespace reelfarm
