#pragma once

// The first pass of the Fountain parser: line ends, notes and boneyard.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/screenplay/document.hpp"

namespace reelfarm::screenplay::detail {

/// A line of the cleaned source: a slice of the input, or of
/// `cleaned_source::text` for a line that had a note or boneyard cut out.
struct source_line {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
  std::uint32_t number = 0;  ///< 1-based line of the original source where it starts
  bool rebuilt = false;      ///< in `text` rather than in the input
};

/// The source with line ends split off, notes `[[...]]` and boneyard `/*...*/`
/// cut out (kept as annotations), and lines that held nothing but a note or
/// boneyard dropped, so a note between a character and its dialogue does not
/// break the block. Lines without a cut stay views of the input (which must
/// outlive this): copying the whole source would cost as much as the parse.
struct cleaned_source {
  std::string_view input;
  std::string text;  ///< the lines that had something cut out
  std::vector<source_line> lines;
  std::vector<annotation> notes;
  std::vector<annotation> boneyard;
  std::uint32_t line_count = 0;

  std::string_view line(std::size_t index) const {
    const auto& l = lines[index];
    return (l.rebuilt ? std::string_view(text) : input).substr(l.offset, l.length);
  }
};

/// Splits and cleans `input` (already valid UTF-8, without byte order mark).
/// Linear time: a failed search for a closing `]]` or `*/` is remembered so
/// that no later opener searches the same stretch again.
cleaned_source clean_source(std::string_view input);

}  // namespace reelfarm::screenplay::detail
