#include "reelfarm/screenplay/heading.hpp"

#include <array>

#include "reelfarm/screenplay/emphasis.hpp"
#include "text.hpp"

namespace reelfarm::screenplay {
namespace {

struct prefix_info {
  std::string_view prefix;
  scene_setting setting;
};

constexpr std::array<prefix_info, 8> prefixes = {{
    {"INT./EXT", scene_setting::interior_exterior},
    {"INT/EXT", scene_setting::interior_exterior},
    {"I./E", scene_setting::interior_exterior},
    {"I/E", scene_setting::interior_exterior},
    {"E/I", scene_setting::interior_exterior},
    {"INT", scene_setting::interior},
    {"EXT", scene_setting::exterior},
    {"EST", scene_setting::establishing},
}};

// Words that make a heading's last part a time of day.
constexpr std::array<std::string_view, 22> time_words = {
    "DAY",        "NIGHT",   "MORNING",  "AFTERNOON", "EVENING",  "DAWN",
    "DUSK",       "SUNRISE", "SUNSET",   "NOON",      "MIDNIGHT", "LATER",
    "CONTINUOUS", "SAME",    "TWILIGHT", "HOUR",      "DAYTIME",  "NIGHTTIME",
    "LATE",       "EARLY",   "MOMENTS",  "CONTINUED"};

bool names_time(std::string_view part) {
  std::size_t i = 0;
  while (i < part.size()) {
    while (i < part.size() && !(part[i] >= 'A' && part[i] <= 'Z')) {
      ++i;
    }
    std::size_t start = i;
    while (i < part.size() && part[i] >= 'A' && part[i] <= 'Z') {
      ++i;
    }
    const std::string_view word = part.substr(start, i - start);
    for (auto w : time_words) {
      if (word == w) {
        return true;
      }
    }
  }
  return false;
}

// Position and length of the last " - " style separator (hyphen, en or em dash).
std::pair<std::size_t, std::size_t> last_separator(std::string_view s) {
  std::pair<std::size_t, std::size_t> best{std::string_view::npos, 0};
  for (std::string_view sep : {" - ", " \xE2\x80\x93 ", " \xE2\x80\x94 ", " -- "}) {
    const std::size_t at = s.rfind(sep);
    if (at != std::string_view::npos && (best.first == std::string_view::npos || at > best.first)) {
      best = {at, sep.size()};
    }
  }
  return best;
}

std::string_view trim_punctuation(std::string_view s) {
  s = text::trim(s);
  while (!s.empty() && (s.back() == '-' || s.back() == ',' || s.back() == '.' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  while (!s.empty() &&
         (s.front() == '-' || s.front() == ',' || s.front() == '.' || s.front() == ' ')) {
    s.remove_prefix(1);
  }
  return s;
}

}  // namespace

scene_place parse_scene_heading(std::string_view heading) {
  scene_place place;
  const std::string upper = text::to_upper(text::collapse_spaces(strip_emphasis(heading)));
  std::string_view rest = upper;
  for (const auto& p : prefixes) {
    if (rest.size() > p.prefix.size() && rest.starts_with(p.prefix) &&
        (rest[p.prefix.size()] == '.' || rest[p.prefix.size()] == ' ')) {
      place.setting = p.setting;
      rest.remove_prefix(p.prefix.size() + 1);
      break;
    }
  }
  rest = text::trim(rest);
  const auto [at, length] = last_separator(rest);
  if (at != std::string_view::npos && names_time(rest.substr(at + length))) {
    place.time_of_day = std::string(trim_punctuation(rest.substr(at + length)));
    rest = rest.substr(0, at);
  }
  place.location = std::string(trim_punctuation(rest));
  return place;
}

std::string_view to_string(scene_setting setting) noexcept {
  switch (setting) {
    case scene_setting::interior:
      return "interior";
    case scene_setting::exterior:
      return "exterior";
    case scene_setting::interior_exterior:
      return "interior_exterior";
    case scene_setting::establishing:
      return "establishing";
    case scene_setting::unspecified:
      return "unspecified";
  }
  return "unspecified";
}

std::string normalize_character_name(std::string_view name) {
  std::string kept;
  kept.reserve(name.size());
  int depth = 0;
  for (char c : name) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      depth = depth > 0 ? depth - 1 : 0;
    } else if (depth == 0 && c != '^') {
      kept.push_back(c);
    }
  }
  std::string_view view = text::trim(kept);
  if (!view.empty() && view.front() == '@') {
    view.remove_prefix(1);
  }
  std::string out = text::to_upper(text::collapse_spaces(view));
  // A continuation written without parentheses: "JOHN CONT'D".
  for (std::string_view suffix : {" CONT'D",
                                  " CONT\xE2\x80\x99"
                                  "D"}) {
    if (out.size() > suffix.size() && out.ends_with(suffix)) {
      out.resize(out.size() - suffix.size());
      break;
    }
  }
  return out;
}

}  // namespace reelfarm::screenplay
