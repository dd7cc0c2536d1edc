#include "reelfarm/media/errc.hpp"

namespace reelfarm {

std::string_view category_of(media_errc) noexcept {
  return "media";
}

std::string_view to_string(media_errc code) noexcept {
  switch (code) {
    case media_errc::invalid_spec:
      return "invalid_spec";
    case media_errc::font:
      return "font";
    case media_errc::speech:
      return "speech";
    case media_errc::encode:
      return "encode";
    case media_errc::decode:
      return "decode";
    case media_errc::mismatch:
      return "mismatch";
    case media_errc::io:
      return "io";
  }
  return "unknown";
}

}  // namespace reelfarm
