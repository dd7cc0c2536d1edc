#pragma once

#include <optional>
#include <string_view>

namespace reelfarm::crm {

/// The org's API usage from `Sforce-Limit-Info: api-usage=N/M`.
struct api_limit_info {
  long used = 0;
  long max = 0;

  /// used / max, 0 when unknown.
  double ratio() const noexcept { return max > 0 ? static_cast<double>(used) / max : 0.0; }
};

/// Parses a Sforce-Limit-Info header value; nullopt when it is malformed
/// (vendor input: never trusted).
std::optional<api_limit_info> parse_limit_info(std::string_view header) noexcept;

}  // namespace reelfarm::crm
