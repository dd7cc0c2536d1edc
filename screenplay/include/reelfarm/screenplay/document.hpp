#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/screenplay/text_arena.hpp"

/// The screenplay model: a Fountain document, the shots planned from it, the
/// consistency references of its characters and locations, and its cost.
namespace reelfarm::screenplay {

/// What a Fountain element is (fountain.io/syntax, version 1.1).
enum class element_kind : std::uint8_t {
  scene_heading,  ///< INT. HOUSE - DAY, or forced with a leading `.`
  action,         ///< a paragraph of description; line breaks and indentation kept
  character,      ///< the name above a dialogue block, with its extension
  dialogue,       ///< consecutive spoken lines of one character
  parenthetical,  ///< (beat), (quietly) inside a dialogue block
  lyrics,         ///< a sung line, marked with `~`
  transition,     ///< CUT TO:, or forced with `>`
  centered,       ///< > THE END <
  section,        ///< # Act one; not printed
  synopsis,       ///< = what happens; not printed
  page_break,     ///< ===
};

/// Which column a dual dialogue block stands in.
enum class dual_side : std::uint8_t { none, left, right };

/// One element of the screenplay body.
struct element {
  element_kind kind = element_kind::action;
  /// The 1-based line of the source where the element starts.
  std::uint32_t line = 0;
  /// The text as written, emphasis markup kept; forcing marks (`.`, `!`, `@`,
  /// `>`, `~`), the dual dialogue caret, scene numbers, notes and boneyard removed.
  /// Multi-line elements join their lines with '\n'. A view into the
  /// document's `texts`: it lives as long as the document (or a copy of it).
  std::string_view text;
  /// Scene headings: the scene number written as `#1A#`, without the pound
  /// signs; also a view into the document's `texts`.
  std::string_view scene_number;
  /// Sections: the number of `#`, 1 for an act.
  std::uint8_t depth = 0;
  /// Character, dialogue, parenthetical and lyrics of a dual dialogue block.
  dual_side dual = dual_side::none;
  /// Written with an explicit forcing mark.
  bool forced = false;
  /// Lyrics, dialogue and parentheticals that belong to the dialogue block of
  /// the character element before them.
  bool in_dialogue = false;
};

/// One `Key: value` entry of the title page.
struct title_field {
  std::string key;    ///< as written, e.g. "Draft date"
  std::string value;  ///< multi-line values joined with '\n', markup kept
  std::uint32_t line = 0;
};

/// A note `[[...]]` or a boneyard `/* ... */` section: removed from the
/// elements, kept here with the line where it starts.
struct annotation {
  std::string text;
  std::uint32_t line = 0;
};

/// A parsed Fountain screenplay.
struct document {
  std::vector<title_field> title_page;
  std::vector<element> elements;
  std::vector<annotation> notes;
  std::vector<annotation> boneyard;
  /// Lines in the source, for diagnostics.
  std::uint32_t line_count = 0;
  /// Owns the bytes the elements' texts view; shared by copies of the
  /// document and by the plans made from it.
  std::shared_ptr<const text_arena> texts;

  /// The value of a title page key (case-insensitive), or empty.
  std::string_view title_value(std::string_view key) const;
  /// The title as plain text: markup removed, lines joined with a space.
  std::string title() const;
  /// How many elements of `kind` the body holds.
  std::size_t count(element_kind kind) const;
};

/// "scene_heading", "action", ...
std::string_view to_string(element_kind kind) noexcept;

}  // namespace reelfarm::screenplay
