#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace reelfarm::screenplay {

/// A piece of text with one style: Fountain's *italic*, **bold**,
/// ***bold italic*** and _underline_, which may nest.
struct styled_run {
  std::string text;
  bool bold = false;
  bool italic = false;
  bool underline = false;
};

/// Splits text into styled runs. Emphasis never spans a line break; a marker
/// without its closing partner stays literal, and `\*` and `\_` are literal
/// characters. Linear in the length of the text.
std::vector<styled_run> parse_emphasis(std::string_view text);

/// The text without emphasis markers and escapes: what a viewer reads.
std::string strip_emphasis(std::string_view text);

}  // namespace reelfarm::screenplay
