#include "reelfarm/screenplay/emphasis.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace reelfarm::screenplay {
namespace {

// A style marker found in a line: `*`, `**`, `***` or `_`.
struct marker {
  std::size_t pos;
  std::uint8_t length;
  std::uint8_t kind;  // 0 italic, 1 bold, 2 bold italic, 3 underline
  bool paired = false;
  bool opens = false;
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool has_markup(std::string_view text) {
  for (char c : text) {
    if (c == '*' || c == '_' || c == '\\') {
      return true;
    }
  }
  return false;
}

// The first position at or after `i` holding `*`, `_` or `\\`, or the end.
// Sixteen bytes at a time with SSE2 (every x86-64 has it): markup is rare.
std::size_t skip_plain(std::string_view line, std::size_t i) {
#if defined(__SSE2__)
  const __m128i star = _mm_set1_epi8('*');
  const __m128i underline = _mm_set1_epi8('_');
  const __m128i escape = _mm_set1_epi8('\\');
  while (i + 16 <= line.size()) {
    const __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(line.data() + i));
    const int mask = _mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, star), _mm_cmpeq_epi8(w, underline)),
                     _mm_cmpeq_epi8(w, escape)));
    if (mask != 0) {
      return i + static_cast<std::size_t>(std::countr_zero(static_cast<unsigned>(mask)));
    }
    i += 16;
  }
#endif
  while (i < line.size() && line[i] != '*' && line[i] != '_' && line[i] != '\\') {
    ++i;
  }
  return i;
}

// Pairs the markers of one line greedily from the left: a marker closes the
// open marker of its kind when it follows a non-space, else opens when a
// non-space follows it. One open slot per kind keeps this linear.
void pair_markers(std::string_view line, std::size_t base, std::vector<marker>& out,
                  std::vector<std::size_t>& escapes) {
  std::array<long, 4> open{-1, -1, -1, -1};
  const std::size_t first = out.size();
  for (std::size_t i = 0; i < line.size();) {
    i = skip_plain(line, i);
    if (i >= line.size()) {
      break;
    }
    char c = line[i];
    if (c == '\\' && i + 1 < line.size() && (line[i + 1] == '*' || line[i + 1] == '_')) {
      escapes.push_back(base + i);
      i += 2;
      continue;
    }
    if (c != '*' && c != '_') {
      ++i;
      continue;
    }
    std::size_t run = 1;
    while (i + run < line.size() && line[i + run] == c) {
      ++run;
    }
    const bool usable = c == '*' ? run <= 3 : run == 1;
    if (usable) {
      const std::uint8_t kind = c == '_' ? 3 : static_cast<std::uint8_t>(run - 1);
      const bool after_text = i > 0 && !is_space(line[i - 1]);
      const bool before_text = i + run < line.size() && !is_space(line[i + run]);
      if (open[kind] >= 0 && after_text) {
        out[static_cast<std::size_t>(open[kind])].paired = true;
        out.push_back({base + i, static_cast<std::uint8_t>(run), kind, true, false});
        open[kind] = -1;
      } else if (before_text) {
        open[kind] = static_cast<long>(out.size());
        out.push_back({base + i, static_cast<std::uint8_t>(run), kind, false, true});
      }
    }
    i += run;
  }
  // Unpaired openers are literal text: drop them from the list.
  std::size_t keep = first;
  for (std::size_t k = first; k < out.size(); ++k) {
    if (out[k].paired) {
      out[keep++] = out[k];
    }
  }
  out.resize(keep);
}

void find_markers(std::string_view text, std::vector<marker>& markers,
                  std::vector<std::size_t>& escapes) {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    pair_markers(text.substr(start, end - start), start, markers, escapes);
    start = end + 1;
  }
}

}  // namespace

std::vector<styled_run> parse_emphasis(std::string_view text) {
  std::vector<marker> markers;
  std::vector<std::size_t> escapes;
  find_markers(text, markers, escapes);
  std::vector<styled_run> runs;
  std::array<int, 4> depth{};
  styled_run current;
  auto flush = [&] {
    if (!current.text.empty()) {
      runs.push_back(current);
    }
    current.text.clear();
    current.italic = depth[0] + depth[2] > 0;
    current.bold = depth[1] + depth[2] > 0;
    current.underline = depth[3] > 0;
  };
  std::size_t m = 0;
  std::size_t e = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (m < markers.size() && markers[m].pos == i) {
      depth[markers[m].kind] += markers[m].opens ? 1 : -1;
      i += markers[m].length;
      ++m;
      flush();
      continue;
    }
    if (e < escapes.size() && escapes[e] == i) {
      ++e;
      ++i;  // drop the backslash, keep the escaped character
      current.text.push_back(text[i++]);
      continue;
    }
    current.text.push_back(text[i++]);
  }
  flush();
  return runs;
}

std::string strip_emphasis(std::string_view text) {
  if (!has_markup(text)) {
    return std::string(text);
  }
  // Reused between calls: the planner strips every element of a screenplay.
  thread_local std::vector<marker> markers;
  thread_local std::vector<std::size_t> escapes;
  markers.clear();
  escapes.clear();
  find_markers(text, markers, escapes);
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  std::size_t m = 0;
  std::size_t e = 0;
  while (i < text.size()) {
    const std::size_t next_marker = m < markers.size() ? markers[m].pos : text.size();
    const std::size_t next_escape = e < escapes.size() ? escapes[e] : text.size();
    const std::size_t cut = std::min(next_marker, next_escape);
    out.append(text.data() + i, cut - i);
    i = cut;
    if (i >= text.size()) {
      break;
    }
    if (cut == next_marker) {
      i += markers[m++].length;
    } else {
      ++e;
      out.push_back(text[i + 1]);  // the escaped character, without its backslash
      i += 2;
    }
  }
  return out;
}

}  // namespace reelfarm::screenplay
