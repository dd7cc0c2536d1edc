#include "text.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace reelfarm::screenplay::text {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is invalid.
std::size_t sequence_length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    return 1;
  }
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  const auto b1 = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    return cont(1) ? 2 : 0;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) {
      return 0;
    }
    if ((b0 == 0xE0 && b1 < 0xA0) || (b0 == 0xED && b1 >= 0xA0)) {
      return 0;  // overlong, or a UTF-16 surrogate
    }
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) {
      return 0;
    }
    if ((b0 == 0xF0 && b1 < 0x90) || (b0 == 0xF4 && b1 >= 0x90)) {
      return 0;  // overlong, or past U+10FFFF
    }
    return 4;
  }
  return 0;
}

// Decodes a sequence already known to be valid.
std::uint32_t decode(std::string_view s, std::size_t i, std::size_t n) {
  const auto b = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[i + k]));
  };
  switch (n) {
    case 1:
      return b(0);
    case 2:
      return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3:
      return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default:
      return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

void encode(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

enum class letter_case { none, upper, lower };

// Case of a code point in the alphabets screenplays are commonly written in.
letter_case case_of(std::uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') {
    return letter_case::upper;
  }
  if (cp >= 'a' && cp <= 'z') {
    return letter_case::lower;
  }
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) {
    return letter_case::upper;
  }
  if (cp >= 0xDF && cp <= 0xFF && cp != 0xF7) {
    return letter_case::lower;
  }
  if (cp >= 0x100 && cp <= 0x17F) {
    // Latin Extended-A alternates upper/lower, with a shift after U+0138.
    const bool even = cp % 2 == 0;
    const bool shifted = (cp >= 0x139 && cp <= 0x148) || (cp >= 0x179 && cp <= 0x17E);
    if (cp == 0x138) {
      return letter_case::lower;
    }
    return (even != shifted) ? letter_case::upper : letter_case::lower;
  }
  if (cp >= 0x391 && cp <= 0x3A9) {
    return letter_case::upper;
  }
  if (cp >= 0x3AC && cp <= 0x3CE) {
    return letter_case::lower;
  }
  if (cp >= 0x400 && cp <= 0x42F) {
    return letter_case::upper;
  }
  if (cp >= 0x430 && cp <= 0x45F) {
    return letter_case::lower;
  }
  return letter_case::none;
}

std::uint32_t upper_of(std::uint32_t cp) {
  if (cp >= 'a' && cp <= 'z') {
    return cp - 32;
  }
  if (cp >= 0xE0 && cp <= 0xFE && cp != 0xF7) {
    return cp - 32;
  }
  if (cp >= 0x3B1 && cp <= 0x3C9 && cp != 0x3C2) {
    return cp - 32;
  }
  if (cp >= 0x430 && cp <= 0x44F) {
    return cp - 32;
  }
  if (cp >= 0x450 && cp <= 0x45F) {
    return cp - 80;
  }
  return cp;
}

}  // namespace

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ascii_upper(s[i]) != ascii_upper(prefix[i])) {
      return false;
    }
  }
  return true;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    // Fast path: eight ASCII bytes at a time.
    while (i + 8 <= s.size()) {
      std::uint64_t word = 0;
      std::memcpy(&word, s.data() + i, sizeof word);
      if ((word & 0x8080808080808080ULL) != 0) {
        break;
      }
      i += 8;
    }
    if (i >= s.size()) {
      break;
    }
    const std::size_t n = sequence_length(s, i);
    if (n == 0) {
      return false;
    }
    i += n;
  }
  return true;
}

void append_sanitized_utf8(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = sequence_length(s, i);
    if (n == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
}

letter_census census(std::string_view s) {
  letter_census result;
  for (std::size_t i = 0; i < s.size();) {
    const auto byte = static_cast<unsigned char>(s[i]);
    if (byte < 0x80) {  // ASCII, most of any screenplay: no decoding
      if (byte >= 'a' && byte <= 'z') {
        result.any_letter = true;
        result.any_lower = true;
        return result;
      }
      result.any_letter = result.any_letter || (byte >= 'A' && byte <= 'Z');
      ++i;
      continue;
    }
    std::size_t n = sequence_length(s, i);
    if (n == 0) {
      ++i;
      continue;
    }
    const letter_case c =
        n == 1 ? case_of(static_cast<unsigned char>(s[i])) : case_of(decode(s, i, n));
    if (c != letter_case::none) {
      result.any_letter = true;
      if (c == letter_case::lower) {
        result.any_lower = true;
        return result;
      }
    }
    i += n;
  }
  return result;
}

std::string to_upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = sequence_length(s, i);
    if (n <= 1) {
      out.push_back(ascii_upper(s[i]));
      ++i;
      continue;
    }
    encode(out, upper_of(decode(s, i, n)));
    i += n;
  }
  return out;
}

std::string collapse_spaces(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (char c : s) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    out.push_back(c);
  }
  return out;
}

namespace {

constexpr std::uint64_t ones = 0x0101010101010101ULL;
constexpr std::uint64_t highs = 0x8080808080808080ULL;

// The high bit of every byte of `x` that is zero (exact, no false positives).
constexpr std::uint64_t zero_bytes(std::uint64_t x) {
  return ~(((x & ~highs) + ~highs) | x) & highs;
}

constexpr std::uint64_t bytes_equal(std::uint64_t w, unsigned char c) {
  return zero_bytes(w ^ (ones * c));
}

constexpr bool is_word_space(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

#if defined(__SSE2__)
// Sixteen bytes at a time: the spaces of a chunk as a bit mask (bit k for byte k).
unsigned space_mask(__m128i chunk) {
  // '\t' '\n' '\v' '\f' '\r' are 9..13: unsigned (c - 9) <= 4.
  const __m128i shifted = _mm_sub_epi8(chunk, _mm_set1_epi8(9));
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(shifted, _mm_set1_epi8(4)), shifted);
  const __m128i blank = _mm_cmpeq_epi8(chunk, _mm_set1_epi8(' '));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(control, blank)));
}

// Bits set in a 16-bit mask, inline: std::popcount is a library call on
// x86-64 targets without the POPCNT instruction.
std::size_t popcount16(unsigned x) {
  x = x - ((x >> 1) & 0x5555U);
  x = (x & 0x3333U) + ((x >> 2) & 0x3333U);
  x = (x + (x >> 4)) & 0x0F0FU;
  return (x + (x >> 8)) & 0x1FU;
}

unsigned markup_mask(__m128i chunk) {
  const __m128i star = _mm_cmpeq_epi8(chunk, _mm_set1_epi8('*'));
  const __m128i underline = _mm_cmpeq_epi8(chunk, _mm_set1_epi8('_'));
  const __m128i escape = _mm_cmpeq_epi8(chunk, _mm_set1_epi8('\\'));
  return static_cast<unsigned>(
      _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(star, underline), escape)));
}
#endif

}  // namespace

std::size_t count_words(std::string_view s, bool& has_markup) {
  // A word starts at every non-space byte that follows a space byte or the
  // start of the text. Sixteen bytes at a time with SSE2 (every x86-64 has
  // it), else eight at a time (SWAR).
  const char* p = s.data();
  const std::size_t n = s.size();
  std::size_t words = 0;
  std::uint64_t markup = 0;
  std::uint64_t previous_space = 0x80ULL << 56;  // as if a space came before the text
  std::size_t i = 0;
#if defined(__SSE2__)
  unsigned carry = 1;  // the byte before the chunk was a space
  unsigned any_markup = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const unsigned space = space_mask(chunk);
    const unsigned before = ((space << 1) | carry) & 0xFFFFU;
    words += popcount16(~space & before & 0xFFFFU);
    any_markup |= markup_mask(chunk);
    carry = space >> 15;
  }
  markup = any_markup;
  previous_space = static_cast<std::uint64_t>(carry) << 63;
#endif
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p + i, sizeof w);
    const std::uint64_t space = bytes_equal(w, ' ') | bytes_equal(w, '\n') | bytes_equal(w, '\t') |
                                bytes_equal(w, '\r') | bytes_equal(w, '\f') | bytes_equal(w, '\v');
    // Each byte's "previous byte is a space" flag: shift by one byte, carry in
    // the last byte of the previous chunk.
    const std::uint64_t before = (space << 8) | (previous_space >> 56);
    // Count the flagged high bits without a popcount instruction (not every
    // x86-64 target has one): gather them into the top byte by multiplication.
    words += static_cast<std::size_t>((((~space & highs & before) >> 7) * ones) >> 56);
    markup |= bytes_equal(w, '*') | bytes_equal(w, '_') | bytes_equal(w, '\\');
    previous_space = space;
  }
  bool last_space = (previous_space >> 63) != 0;
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    const bool space = is_word_space(c);
    words += (!space && last_space) ? 1 : 0;
    markup |= (c == '*' || c == '_' || c == '\\') ? 1 : 0;
    last_space = space;
  }
  has_markup = markup != 0;
  return words;
}

std::size_t count_words(std::string_view s) {
  bool has_markup = false;
  return count_words(s, has_markup);
}

std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) {
    return s;
  }
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {
    --n;
  }
  return s.substr(0, n);
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
  }
  return n;
}

}  // namespace reelfarm::screenplay::text
