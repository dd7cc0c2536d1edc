#include "reelfarm/farm/errc.hpp"

namespace reelfarm {

std::string_view category_of(farm_errc) noexcept {
  return "farm";
}

std::string_view to_string(farm_errc code) noexcept {
  switch (code) {
    case farm_errc::frame_too_large:
      return "frame_too_large";
    case farm_errc::malformed_frame:
      return "malformed_frame";
    case farm_errc::unsupported_version:
      return "unsupported_version";
    case farm_errc::unknown_type:
      return "unknown_type";
    case farm_errc::invalid_field:
      return "invalid_field";
    case farm_errc::unknown_node:
      return "unknown_node";
    case farm_errc::unknown_lease:
      return "unknown_lease";
    case farm_errc::stale_epoch:
      return "stale_epoch";
    case farm_errc::out_of_order:
      return "out_of_order";
    case farm_errc::duplicate_shot:
      return "duplicate_shot";
    case farm_errc::unknown_shot:
      return "unknown_shot";
    case farm_errc::invalid_argument:
      return "invalid_argument";
    case farm_errc::transport:
      return "transport";
    case farm_errc::persistence:
      return "persistence";
    case farm_errc::backend:
      return "backend";
    case farm_errc::timeout:
      return "timeout";
    case farm_errc::not_enrolled:
      return "not_enrolled";
    case farm_errc::invalid_token:
      return "invalid_token";
    case farm_errc::forbidden:
      return "forbidden";
  }
  return "unknown";
}

}  // namespace reelfarm
