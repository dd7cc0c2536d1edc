#include "source_cleaner.hpp"

#include <array>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "text.hpp"

namespace reelfarm::screenplay::detail {
namespace {

constexpr std::array<bool, 256> make_special_table() {
  std::array<bool, 256> table{};
  table[static_cast<unsigned char>('\n')] = true;
  table[static_cast<unsigned char>('\r')] = true;
  table[static_cast<unsigned char>('/')] = true;
  table[static_cast<unsigned char>('[')] = true;
  return table;
}
constexpr std::array<bool, 256> special = make_special_table();

// A line that ends a note: empty or whitespace only, unless it is the
// "two spaces" line that Fountain uses to keep an element together.
bool is_hard_blank(std::string_view line) {
  if (!text::is_blank(line)) {
    return false;
  }
  if (line.size() < 2) {
    return true;
  }
  for (char c : line) {
    if (c != ' ') {
      return true;
    }
  }
  return false;
}

class cleaner {
 public:
  explicit cleaner(std::string_view input) : in_(input) {
    out_.input = input;
    out_.lines.reserve(input.size() / 32 + 16);
  }

  cleaned_source run() {
    std::size_t i = 0;
    const std::size_t n = in_.size();
    while (i < n) {
      std::size_t start = i;
      i = skip_plain(i);
      while (i < n && !special[static_cast<unsigned char>(in_[i])]) {
        ++i;
      }
      keep(start, i);
      if (i >= n) {
        break;
      }
      i = handle_special(i);
    }
    end_line(n);
    // end_line() counted one line past the last; a final line end opens no line.
    out_.line_count = in_.empty() ? 0 : line_number_ - 1 - (ends_with_line_end() ? 1 : 0);
    return std::move(out_);
  }

 private:
  // Skips sixteen bytes at a time while none of them is special (SSE2, which
  // every x86-64 has), else eight (SWAR); the byte loop after it finds the
  // exact position.
  std::size_t skip_plain(std::size_t i) const {
#if defined(__SSE2__)
    const __m128i newline = _mm_set1_epi8('\n');
    const __m128i carriage = _mm_set1_epi8('\r');
    const __m128i slash = _mm_set1_epi8('/');
    const __m128i bracket = _mm_set1_epi8('[');
    while (i + 16 <= in_.size()) {
      const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in_.data() + i));
      const __m128i hits =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, newline), _mm_cmpeq_epi8(w, carriage)),
                       _mm_or_si128(_mm_cmpeq_epi8(w, slash), _mm_cmpeq_epi8(w, bracket)));
      const int mask = _mm_movemask_epi8(hits);
      if (mask != 0) {
        return i + static_cast<std::size_t>(std::countr_zero(static_cast<unsigned>(mask)));
      }
      i += 16;
    }
#endif
    constexpr std::uint64_t ones = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    auto zero_bytes = [](std::uint64_t x) { return ~(((x & ~highs) + ~highs) | x) & highs; };
    while (i + 8 <= in_.size()) {
      std::uint64_t w = 0;
      std::memcpy(&w, in_.data() + i, sizeof w);
      const std::uint64_t hits = zero_bytes(w ^ (ones * '\n')) | zero_bytes(w ^ (ones * '\r')) |
                                 zero_bytes(w ^ (ones * '/')) | zero_bytes(w ^ (ones * '['));
      if (hits != 0) {
        break;
      }
      i += 8;
    }
    return i;
  }

  bool ends_with_line_end() const {
    return !in_.empty() && (in_.back() == '\n' || in_.back() == '\r');
  }

  std::size_t handle_special(std::size_t i) {
    const char c = in_[i];
    if (c == '\n') {
      end_line(i);
      return i + 1;
    }
    if (c == '\r') {
      end_line(i);
      return i + 1 < in_.size() && in_[i + 1] == '\n' ? i + 2 : i + 1;
    }
    const bool pair = i + 1 < in_.size() && in_[i + 1] == (c == '/' ? '*' : '[');
    if (pair && c == '/') {
      return boneyard(i);
    }
    if (pair && c == '[') {
      return note(i);
    }
    keep(i, i + 1);
    return i + 1;
  }

  std::size_t boneyard(std::size_t i) {
    const std::size_t close = boneyard_closed_ ? in_.find("*/", i + 2) : std::string_view::npos;
    if (close == std::string_view::npos) {
      boneyard_closed_ = false;  // no closer anywhere after: every later `/*` is literal
      keep(i, i + 2);
      return i + 2;
    }
    out_.boneyard.push_back({std::string(in_.substr(i + 2, close - i - 2)), line_number_});
    skip_removed(i, close + 2);
    return close + 2;
  }

  std::size_t note(std::size_t i) {
    std::size_t close = std::string_view::npos;
    if (i >= note_failed_until_) {
      close = find_note_end(i + 2);
    }
    if (close == std::string_view::npos) {
      keep(i, i + 2);
      return i + 2;
    }
    out_.notes.push_back({std::string(in_.substr(i + 2, close - i - 2)), line_number_});
    skip_removed(i, close + 2);
    return close + 2;
  }

  // The position of the `]]` that closes a note opened before `from`, or npos
  // when a hard blank line or the end comes first (then remembered).
  std::size_t find_note_end(std::size_t from) {
    std::size_t k = from;
    while (k < in_.size()) {
      const char c = in_[k];
      if (c == ']' && k + 1 < in_.size() && in_[k + 1] == ']') {
        return k;
      }
      if (c == '\n' || c == '\r') {
        std::size_t next = k + 1;
        if (c == '\r' && next < in_.size() && in_[next] == '\n') {
          ++next;
        }
        std::size_t end = next;
        while (end < in_.size() && in_[end] != '\n' && in_[end] != '\r') {
          ++end;
        }
        if (is_hard_blank(in_.substr(next, end - next))) {
          note_failed_until_ = next;
          return std::string_view::npos;
        }
        k = next;
        continue;
      }
      ++k;
    }
    note_failed_until_ = in_.size();
    return std::string_view::npos;
  }

  // Counts the line ends inside a removed stretch so later lines keep their
  // original numbers; the cleaned line goes on across them.
  void skip_removed(std::size_t from, std::size_t to) {
    rebuild(from);
    for (std::size_t k = from; k < to; ++k) {
      if (in_[k] == '\n' || (in_[k] == '\r' && (k + 1 >= in_.size() || in_[k + 1] != '\n'))) {
        ++line_number_;
      }
    }
    line_had_removal_ = true;
  }

  // Input bytes [from, to) belong to the current line: already in place in
  // the input, unless the line is being rebuilt.
  void keep(std::size_t from, std::size_t to) {
    if (line_had_removal_) {
      out_.text.append(in_.data() + from, to - from);
    }
  }

  // The line is about to lose a note or boneyard: from here on it is built
  // in out_.text, starting with what it held so far (input up to `to`).
  void rebuild(std::size_t to) {
    if (!line_had_removal_) {
      line_offset_ = out_.text.size();
      out_.text.append(in_.data() + line_begin_, to - line_begin_);
    }
  }

  // Ends the current line at input position `end` (its line end).
  void end_line(std::size_t end) {
    if (line_had_removal_) {
      const auto offset = static_cast<std::uint32_t>(line_offset_);
      const auto length = static_cast<std::uint32_t>(out_.text.size() - line_offset_);
      if (text::is_blank(std::string_view(out_.text).substr(offset, length))) {
        out_.text.resize(line_offset_);  // nothing but a note or boneyard: no line
      } else {
        out_.lines.push_back({offset, length, line_start_number_, true});
      }
    } else {
      out_.lines.push_back({static_cast<std::uint32_t>(line_begin_),
                            static_cast<std::uint32_t>(end - line_begin_), line_start_number_,
                            false});
    }
    ++line_number_;
    line_start_number_ = line_number_;
    line_begin_ =
        end + (end < in_.size() && in_[end] == '\r' && end + 1 < in_.size() && in_[end + 1] == '\n'
                   ? 2
                   : 1);
    line_had_removal_ = false;
  }

  std::string_view in_;
  cleaned_source out_;
  std::uint32_t line_number_ = 1;
  std::uint32_t line_start_number_ = 1;
  std::size_t line_offset_ = 0;  ///< where a rebuilt line starts in out_.text
  std::size_t line_begin_ = 0;   ///< where the current line starts in the input
  bool line_had_removal_ = false;
  bool boneyard_closed_ = true;
  std::size_t note_failed_until_ = 0;
};

}  // namespace

cleaned_source clean_source(std::string_view input) {
  return cleaner(input).run();
}

}  // namespace reelfarm::screenplay::detail
