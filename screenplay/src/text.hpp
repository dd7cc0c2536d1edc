#pragma once

// Small text helpers shared by the parser and the planner. Internal: not part
// of the library's public headers.

#include <cstddef>
#include <string>
#include <string_view>

namespace reelfarm::screenplay::text {

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

inline std::string_view trim_left(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_space(s[i])) {
    ++i;
  }
  return s.substr(i);
}

inline std::string_view trim_right(std::string_view s) {
  std::size_t n = s.size();
  while (n > 0 && is_space(s[n - 1])) {
    --n;
  }
  return s.substr(0, n);
}

inline std::string_view trim(std::string_view s) {
  return trim_right(trim_left(s));
}

inline bool is_blank(std::string_view s) {
  return trim_left(s).empty();
}

inline char ascii_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}

/// Case-insensitive ASCII prefix test.
bool starts_with_icase(std::string_view s, std::string_view prefix);

/// True when `s` is valid UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool valid_utf8(std::string_view s);

/// Appends `s` to `out`, replacing every invalid UTF-8 sequence with U+FFFD.
void append_sanitized_utf8(std::string& out, std::string_view s);

/// Letters by case, for ASCII and the common alphabets (Latin-1, Latin
/// Extended-A, Greek, Cyrillic): what "all caps" means for a character name.
struct letter_census {
  bool any_letter = false;
  bool any_lower = false;
};
letter_census census(std::string_view s);

/// Upper-cases ASCII, Latin-1, Greek and Cyrillic letters; other bytes unchanged.
std::string to_upper(std::string_view s);

/// Collapses runs of whitespace into one space and trims the ends.
std::string collapse_spaces(std::string_view s);

/// Whitespace-separated tokens: what a duration estimate counts as words.
std::size_t count_words(std::string_view s);

/// count_words in the same pass that tells whether `s` holds emphasis markup
/// (`*`, `_` or `\\`). Markup never changes the count: it adds no spaces.
std::size_t count_words(std::string_view s, bool& has_markup);

/// The longest prefix of `s` of at most `max_bytes` that does not cut a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);

/// Number of code points (what a terminal column count approximates).
std::size_t utf8_length(std::string_view s);

}  // namespace reelfarm::screenplay::text
