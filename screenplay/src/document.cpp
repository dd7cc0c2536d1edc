#include "reelfarm/screenplay/document.hpp"

#include "reelfarm/screenplay/emphasis.hpp"
#include "text.hpp"

namespace reelfarm::screenplay {

std::string_view document::title_value(std::string_view key) const {
  for (const auto& field : title_page) {
    if (field.key.size() == key.size() && text::starts_with_icase(field.key, key)) {
      return field.value;
    }
  }
  return {};
}

std::string document::title() const {
  return text::collapse_spaces(strip_emphasis(title_value("title")));
}

std::size_t document::count(element_kind kind) const {
  std::size_t n = 0;
  for (const auto& e : elements) {
    n += e.kind == kind ? 1 : 0;
  }
  return n;
}

std::string_view to_string(element_kind kind) noexcept {
  switch (kind) {
    case element_kind::scene_heading:
      return "scene_heading";
    case element_kind::action:
      return "action";
    case element_kind::character:
      return "character";
    case element_kind::dialogue:
      return "dialogue";
    case element_kind::parenthetical:
      return "parenthetical";
    case element_kind::lyrics:
      return "lyrics";
    case element_kind::transition:
      return "transition";
    case element_kind::centered:
      return "centered";
    case element_kind::section:
      return "section";
    case element_kind::synopsis:
      return "synopsis";
    case element_kind::page_break:
      return "page_break";
  }
  return "unknown";
}

}  // namespace reelfarm::screenplay
