#pragma once

#include <string_view>

namespace reelfarm {

/// True when no array or object in the JSON text `text` nests deeper than
/// `limit`. Counted on the raw bytes, without parsing, so that hostile input
/// (a frame or body of 60,000 '[') never reaches a recursive parser. Brackets
/// inside strings, escaped quotes included, do not count.
bool json_nesting_within(std::string_view text, int limit) noexcept;

}  // namespace reelfarm
