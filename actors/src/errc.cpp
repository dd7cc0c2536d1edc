#include "reelfarm/actors/errc.hpp"

namespace reelfarm {

std::string_view category_of(actors_errc) noexcept {
  return "actors";
}

std::string_view to_string(actors_errc code) noexcept {
  switch (code) {
    case actors_errc::invalid_settings:
      return "invalid_settings";
    case actors_errc::plan_limit:
      return "plan_limit";
    case actors_errc::shot_failed:
      return "shot_failed";
    case actors_errc::assembly:
      return "assembly";
    case actors_errc::cancelled:
      return "cancelled";
    case actors_errc::crashed:
      return "crashed";
    case actors_errc::not_running:
      return "not_running";
  }
  return "unknown";
}

}  // namespace reelfarm
