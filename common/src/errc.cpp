#include "reelfarm/common/errc.hpp"

namespace reelfarm {

std::string_view category_of(common_errc) noexcept {
  return "common";
}

std::string_view to_string(common_errc code) noexcept {
  switch (code) {
    case common_errc::invalid_argument:
      return "invalid_argument";
    case common_errc::config_file:
      return "config_file";
    case common_errc::config_unknown_key:
      return "config_unknown_key";
    case common_errc::config_type:
      return "config_type";
    case common_errc::config_range:
      return "config_range";
    case common_errc::io:
      return "io";
    case common_errc::process:
      return "process";
    case common_errc::timeout:
      return "timeout";
    case common_errc::interrupted:
      return "interrupted";
    case common_errc::transport:
      return "transport";
    case common_errc::invalid_response:
      return "invalid_response";
  }
  return "unknown";
}

}  // namespace reelfarm
