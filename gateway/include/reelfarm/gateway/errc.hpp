#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of the gateway module: the HTTP server, tokens and requests.
enum class gateway_errc {
  bind = 1,         ///< the listening socket cannot be opened
  invalid_request,  ///< a request that cannot be parsed or validated
  token_invalid,    ///< a token that is malformed, forged or of the wrong kind
  token_expired,    ///< a token past its expiry
  refresh_reused,   ///< a rotated refresh token was presented again
  rate_limited,     ///< too many requests
  not_found,        ///< the resource does not exist (or belongs to someone else)
  storage,          ///< PostgreSQL or Redis failed
  options,          ///< gateway options that cannot work
};

std::string_view category_of(gateway_errc) noexcept;
std::string_view to_string(gateway_errc code) noexcept;

}  // namespace reelfarm
