#include "reelfarm/screenplay/errc.hpp"

namespace reelfarm {

std::string_view category_of(screenplay_errc) noexcept {
  return "screenplay";
}

std::string_view to_string(screenplay_errc code) noexcept {
  switch (code) {
    case screenplay_errc::empty:
      return "empty";
    case screenplay_errc::too_large:
      return "too_large";
    case screenplay_errc::encoding:
      return "encoding";
    case screenplay_errc::too_long:
      return "too_long";
    case screenplay_errc::invalid_argument:
      return "invalid_argument";
  }
  return "unknown";
}

}  // namespace reelfarm
