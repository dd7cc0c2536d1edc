#pragma once

// The first pass of the Fountain parser: line ends, notes and boneyard.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/screenplay/document.hpp"

namespace reelfarm::screenplay::detail {

/// A line of the cleaned source: a slice of `cleaned_source::text`.
struct source_line {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  std::uint32_t number = 0;  ///< 1-based line of the original source where it starts
};

/// The source with line ends split off, notes `[[...]]` and boneyard `/*...*/`
/// cut out (kept as annotations), and lines that held nothing but a note or
/// boneyard dropped, so a note between a character and its dialogue does not
/// break the block.
struct cleaned_source {
  std::string text;
  std::vector<source_line> lines;
  std::vector<annotation> notes;
  std::vector<annotation> boneyard;
  std::uint32_t line_count = 0;

  std::string_view line(std::size_t index) const {
    const auto& l = lines[index];
    return std::string_view(text).substr(l.offset, l.length);
  }
};

/// Splits and cleans `input` (already valid UTF-8, without byte order mark).
/// Linear time: a failed search for a closing `]]` or `*/` is remembered so
/// that no later opener searches the same stretch again.
cleaned_source clean_source(std::string_view input);

}  // namespace reelfarm::screenplay::detail
