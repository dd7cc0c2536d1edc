#pragma once

#include <cstddef>
#include <string_view>

#include "reelfarm/common/result.hpp"
#include "reelfarm/screenplay/document.hpp"

namespace reelfarm::screenplay {

/// Limits that keep a hostile or broken input from costing unbounded memory.
struct parse_options {
  /// Inputs larger than this are refused with screenplay_errc::too_large.
  std::size_t max_bytes = std::size_t{50} * 1024 * 1024;
};

/// Parses a Fountain 1.1 screenplay. Accepts UTF-8 with or without a byte
/// order mark, LF or CRLF (or CR) line ends; invalid UTF-8 sequences become
/// U+FFFD. Fails only for inputs over the size limit and for UTF-16/UTF-32
/// text; an empty input is an empty document (the planner refuses it).
/// Time and memory are linear in the input size.
result<document> parse_fountain(std::string_view text, const parse_options& options = {});

}  // namespace reelfarm::screenplay
