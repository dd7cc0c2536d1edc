#pragma once

// Finds the characters named in a piece of action text.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace reelfarm::screenplay::detail {

/// Matches whole-word, case-insensitive mentions of known character names
/// ("JOHN", "DR. SMITH") in prose, including the possessive "John's". Only
/// words that start with a capital letter are looked up: screenplays capitalise
/// names, and skipping lower-case words keeps the scan cheap.
class mention_finder {
 public:
  /// Registers a normalised (upper-case) name under `index`.
  void add(std::string_view name, std::size_t index);

  /// Appends the indices of the names mentioned in `text` to `out`, each once,
  /// in order of first mention.
  void find(std::string_view text, std::vector<std::size_t>& out) const;

 private:
  struct entry {
    std::vector<std::string> rest;  ///< the name's words after the first
    std::size_t index;
  };
  std::unordered_map<std::string, std::vector<entry>> by_first_word_;
  std::size_t min_word_ = static_cast<std::size_t>(-1);  ///< shortest first word of a name
  std::size_t max_word_ = 0;                             ///< longest first word of a name
};

}  // namespace reelfarm::screenplay::detail
