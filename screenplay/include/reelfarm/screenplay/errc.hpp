#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of the screenplay module: reading, planning and pricing a screenplay.
enum class screenplay_errc {
  empty = 1,         ///< the screenplay holds nothing to film (no scenes, action or dialogue)
  too_large,         ///< the input is larger than the configured limit
  encoding,          ///< the input is not UTF-8 (for example UTF-16)
  too_long,          ///< the planned film is longer than the plan allows
  invalid_argument,  ///< a setting given to the planner is not usable
};

/// "screenplay".
std::string_view category_of(screenplay_errc) noexcept;
/// The symbolic name of `code`, e.g. "too_large".
std::string_view to_string(screenplay_errc code) noexcept;

}  // namespace reelfarm
