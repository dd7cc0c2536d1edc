#include "reelfarm/gateway/errc.hpp"

namespace reelfarm {

std::string_view category_of(gateway_errc) noexcept {
  return "gateway";
}

std::string_view to_string(gateway_errc code) noexcept {
  switch (code) {
    case gateway_errc::bind:
      return "bind";
    case gateway_errc::invalid_request:
      return "invalid_request";
    case gateway_errc::token_invalid:
      return "token_invalid";
    case gateway_errc::token_expired:
      return "token_expired";
    case gateway_errc::refresh_reused:
      return "refresh_reused";
    case gateway_errc::rate_limited:
      return "rate_limited";
    case gateway_errc::not_found:
      return "not_found";
    case gateway_errc::storage:
      return "storage";
    case gateway_errc::options:
      return "options";
  }
  return "unknown";
}

}  // namespace reelfarm
