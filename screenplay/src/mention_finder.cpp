#include "mention_finder.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "text.hpp"

namespace reelfarm::screenplay::detail {
namespace {

constexpr std::array<bool, 256> make_word_bytes() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[static_cast<std::size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                         (c >= '0' && c <= '9') || c == '\'' || c >= 0x80;
  }
  return table;
}
constexpr std::array<bool, 256> word_bytes = make_word_bytes();

bool is_word_byte(char c) {
  return word_bytes[static_cast<unsigned char>(c)];
}

void split_words(std::string_view s, std::vector<std::string_view>& words) {
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && !is_word_byte(s[i])) {
      ++i;
    }
    const std::size_t start = i;
    while (i < s.size() && is_word_byte(s[i])) {
      ++i;
    }
    if (i > start) {
      words.push_back(s.substr(start, i - start));
    }
  }
}

void upper_into(std::string_view word, std::string& out) {
  out.clear();
  for (char c : word) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      out = text::to_upper(word);
      return;
    }
    out.push_back(text::ascii_upper(c));
  }
}

}  // namespace

void mention_finder::add(std::string_view name, std::size_t index) {
  std::vector<std::string_view> words;
  split_words(name, words);
  if (words.empty()) {
    return;
  }
  min_word_ = std::min(min_word_, words[0].size());
  max_word_ = std::max(max_word_, words[0].size());
  entry e{{}, index};
  for (std::size_t k = 1; k < words.size(); ++k) {
    e.rest.emplace_back(words[k]);
  }
  by_first_word_[std::string(words[0])].push_back(std::move(e));
}

namespace {

// Whether byte `c` may open a name: a capital, a digit or a non-ASCII byte.
bool may_open_name(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

// The next word of `s` at or after `i` that starts like a name (see
// mention_finder); empty at the end. Prose is mostly lower-case words, so the
// scan looks for the bytes that may open a name, eight at a time (SWAR), and
// only then checks that such a byte starts a word.
std::string_view next_capital_word(std::string_view s, std::size_t& i) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t highs = 0x8080808080808080ULL;
  while (i < s.size()) {
    while (i + 8 <= s.size()) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, sizeof w);
      // High bit set in a byte that is >= 0x80, or within 'A'..'Z' or '0'..'9'
      // (the range tests are exact for bytes below 0x80).
      const std::uint64_t low = w & ~highs;
      const auto in_range = [&](unsigned char from, unsigned char to) {
        const std::uint64_t above = low + ones * (0x80 - from);  // high bit: byte >= from
        const std::uint64_t below = ones * (0x80 + to) - low;    // high bit: byte <= to
        return above & below & highs;
      };
      const std::uint64_t hits = (w | in_range('A', 'Z') | in_range('0', '9')) & highs;
      if (hits != 0) {
        break;
      }
      i += 8;
    }
    while (i < s.size() && !may_open_name(static_cast<unsigned char>(s[i]))) {
      ++i;
    }
    if (i >= s.size()) {
      return {};
    }
    if (i > 0 && is_word_byte(s[i - 1])) {
      while (i < s.size() && is_word_byte(s[i])) {
        ++i;  // a capital inside a word ("McCLANE"): skip the rest of the word
      }
      continue;
    }
    const std::size_t start = i;
    while (i < s.size() && is_word_byte(s[i])) {
      ++i;
    }
    return s.substr(start, i - start);
  }
  return {};
}

// The next word of `s` at or after `i`; empty at the end.
std::string_view next_word(std::string_view s, std::size_t& i) {
  while (i < s.size() && !is_word_byte(s[i])) {
    ++i;
  }
  const std::size_t start = i;
  while (i < s.size() && is_word_byte(s[i])) {
    ++i;
  }
  return s.substr(start, i - start);
}

bool same_word(std::string_view word, const std::string& name_word, std::string& buffer) {
  upper_into(word, buffer);
  if (buffer == name_word) {
    return true;
  }
  return buffer.ends_with("'S") &&
         std::string_view(buffer).substr(0, buffer.size() - 2) == name_word;
}

}  // namespace

void mention_finder::find(std::string_view text, std::vector<std::size_t>& out) const {
  if (by_first_word_.empty()) {
    return;
  }
  thread_local std::string upper;
  thread_local std::string next;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::string_view word = next_capital_word(text, i);
    if (word.empty()) {
      break;
    }
    if (word.size() < min_word_ || word.size() > max_word_ + 2) {
      continue;  // no name's first word is this long or short ("'S" aside)
    }
    upper_into(word, upper);
    auto it = by_first_word_.find(upper);
    if (it == by_first_word_.end() && upper.size() > 2 && upper.ends_with("'S")) {
      upper.resize(upper.size() - 2);
      it = by_first_word_.find(upper);
    }
    if (it == by_first_word_.end()) {
      continue;
    }
    for (const entry& e : it->second) {
      std::size_t j = i;
      bool whole = true;
      for (std::size_t k = 0; whole && k < e.rest.size(); ++k) {
        const std::string_view following = next_word(text, j);
        whole = !following.empty() && same_word(following, e.rest[k], next);
      }
      if (whole && std::find(out.begin(), out.end(), e.index) == out.end()) {
        out.push_back(e.index);
      }
    }
  }
}

}  // namespace reelfarm::screenplay::detail
