#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/common/config.hpp"
#include "reelfarm/common/result.hpp"
#include "reelfarm/screenplay/document.hpp"
#include "reelfarm/screenplay/heading.hpp"
#include "reelfarm/screenplay/references.hpp"
#include "reelfarm/screenplay/text_arena.hpp"

namespace reelfarm::screenplay {

/// What a shot shows.
enum class shot_kind {
  establishing,  ///< the location, opening every scene
  action,        ///< one action paragraph (or a part of a long one)
  dialogue,      ///< one dialogue block (or a part of a long one)
  two_shot,      ///< a dual dialogue pair: both characters speak at once
  card,          ///< centered text shown on screen, such as THE END
};

/// One spoken (or sung) piece of a shot. Texts of a plan are views into the
/// plan's `texts`: they live as long as the plan or any copy of it.
struct spoken_line {
  std::string_view character;  ///< normalised name; empty for an unattributed lyric
  std::string_view extension;  ///< the character's extension as written: "V.O.", "O.S.", or empty
  std::string_view parenthetical;  ///< the direction before it, "(whispering)", or empty
  std::string_view text;           ///< plain text: emphasis and notes removed
  bool sung = false;               ///< lyrics
};

/// One shot: what the renderer draws and speaks, and for how long.
struct shot {
  shot_kind kind = shot_kind::action;
  std::uint32_t number = 0;  ///< 1-based within the scene
  std::uint32_t line = 0;    ///< source line of the element it comes from
  std::chrono::milliseconds duration{0};
  /// Normalised names present, in order of appearance; in the plan's `texts`.
  std::span<const std::string_view> characters;
  /// Text the frame shows: the action (plain, line breaks kept), the card, or
  /// the establishing caption. Empty for dialogue and two-shots, whose words
  /// are in `speech`. The location and time of day are the scene's.
  std::string_view text;
  std::span<const spoken_line> speech;  ///< what is said, in order; in the plan's `texts`
  std::uint32_t part = 1;               ///< for content split at max_shot: 1-based part ...
  std::uint32_t parts = 1;              ///< ... of this many
};

/// One scene: a scene heading and everything up to the next one.
struct scene {
  std::uint32_t number = 0;       ///< 1-based; a prologue before the first heading is scene 1
  std::string_view heading;       ///< plain text; "" for a prologue without heading
  std::string_view scene_number;  ///< as written, #1A# gives "1A"
  scene_setting setting = scene_setting::unspecified;
  std::string_view location;
  std::string_view time_of_day;
  std::uint32_t line = 0;
  std::vector<shot> shots;
  /// Present in any shot, in order of appearance; in the plan's `texts`.
  std::span<const std::string_view> characters;
  std::chrono::milliseconds duration{0};
};

/// A screenplay planned for rendering.
struct plan {
  std::string title;
  std::vector<scene> scenes;
  std::vector<consistency_reference> characters;  ///< in order of first appearance
  std::vector<consistency_reference> locations;   ///< in order of first appearance
  std::chrono::milliseconds duration{0};
  std::int64_t cost_credits = 0;
  /// Owns the bytes that the scenes' and shots' texts and lists view (and
  /// keeps the document's texts alive); shared by copies of the plan.
  std::shared_ptr<const text_arena> texts;

  /// Shots in all scenes.
  std::size_t shot_count() const;
};

/// Turns a document into scenes and shots:
/// - every scene heading opens a scene with an establishing shot of
///   `establishing_shot` length;
/// - every action paragraph is a shot lasting its words at `reading_rate_wpm`;
/// - every dialogue block is a shot lasting its spoken words at
///   `speaking_rate_wpm` (parentheticals are not spoken); a dual dialogue
///   pair is one two-shot lasting the longer of its two speeches;
/// - centered text is a card read at `reading_rate_wpm`;
/// - every duration lies within [min_shot, max_shot]: an action paragraph or
///   dialogue block that needs longer is split into equal parts at word
///   boundaries, each a shot;
/// - transitions, sections, synopses, page breaks and FADE IN:/FADE OUT.
///   lines make no shot.
/// Characters present are the speakers of a dialogue shot (except voice-over
/// and off-screen speakers: (V.O.), (O.S.), (O.C.)) and the characters named
/// in an action paragraph. References are derived from `project_key`.
/// Fails with screenplay_errc::empty when nothing is left to film and
/// screenplay_errc::invalid_argument for unusable settings.
/// The plan views the document's texts and keeps `doc.texts` alive, so it
/// may outlive `doc`; a document assembled by hand (without `texts`) must
/// outlive the plan instead.
result<plan> plan_screenplay(const document& doc, const planner_settings& settings,
                             std::string_view project_key);

/// The same, for a document that is no longer needed. Shots view the
/// document's texts either way (the plan shares its arena); kept so that
/// callers handing over their document need not change.
result<plan> plan_screenplay(document&& doc, const planner_settings& settings,
                             std::string_view project_key);

/// "establishing", "action", "dialogue", "two_shot" or "card".
std::string_view to_string(shot_kind kind) noexcept;

}  // namespace reelfarm::screenplay
