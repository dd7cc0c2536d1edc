#include "mention_finder.hpp"

#include <algorithm>
#include <array>

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

bool may_be_name(std::string_view word) {
  const char c = word[0];
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80;
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
    const std::string_view word = next_word(text, i);
    if (word.empty() || !may_be_name(word)) {
      continue;
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
