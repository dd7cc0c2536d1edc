#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/common/result.hpp"

/// The renderer's own input: everything needed to draw and voice one shot.
/// The actors layer maps screenplay shots onto it; media/ knows nothing else.
namespace reelfarm::media {

/// What a shot shows; it decides framing and which texts appear.
enum class shot_kind { establishing, action, dialogue, two_shot };

/// Parses "establishing", "action", "dialogue" or "two-shot" (also "two_shot").
result<shot_kind> parse_shot_kind(std::string_view text);
/// The spelling `parse_shot_kind` accepts.
std::string_view to_string(shot_kind kind) noexcept;

/// An sRGB colour.
struct rgb {
  std::uint8_t r = 0;
  std::uint8_t g = 0;
  std::uint8_t b = 0;
  friend bool operator==(const rgb&, const rgb&) = default;
};

/// Parses "#RRGGBB" (the '#' is optional).
result<rgb> parse_rgb(std::string_view text);

/// A speaking voice: an espeak-ng voice name with its pitch and speed.
struct voice_ref {
  std::string name = "en";  ///< espeak-ng voice, e.g. "en-us", "en+f3"
  int pitch = 50;           ///< 0..99
  int speed = 165;          ///< words per minute, 80..400
};

/// A character's consistency reference: its look comes only from seed and palette.
struct character_ref {
  std::string name;
  std::vector<rgb> palette;  ///< up to 8 colours; empty: derived from the seed
  std::uint64_t seed = 0;
  voice_ref voice;
};

/// A location's consistency reference.
struct location_ref {
  std::string name;
  std::vector<rgb> palette;  ///< up to 8 colours; empty: derived from the seed
  std::uint64_t seed = 0;
};

/// One spoken line.
struct dialogue_line {
  std::string character;  ///< must name one of the shot's characters
  std::string text;
  std::string parenthetical;  ///< e.g. "whispering"; may be empty
};

/// One shot to render.
struct shot_spec {
  std::string id;  ///< letters, digits, '-', '_', '.'; used in file names
  shot_kind kind = shot_kind::action;
  double duration_s = 3.0;  ///< planned; speech may make the shot longer
  int width = 1280;
  int height = 720;
  int fps = 24;
  location_ref location;
  std::vector<character_ref> characters;
  std::string heading;  ///< the scene heading, drawn on establishing shots
  std::string action;
  std::vector<dialogue_line> dialogue;
  bool watermark = false;  ///< free-plan films carry a visible watermark
};

/// Limits every spec is checked against.
struct spec_limits {
  static constexpr int min_width = 160, max_width = 3840;
  static constexpr int min_height = 90, max_height = 2160;
  static constexpr int min_fps = 1, max_fps = 60;
  static constexpr double min_duration_s = 0.25, max_duration_s = 600.0;
  static constexpr std::size_t max_id = 64, max_name = 80, max_heading = 200;
  static constexpr std::size_t max_action = 2000, max_line = 1000, max_parenthetical = 200;
  static constexpr std::size_t max_characters = 8, max_lines = 40, max_palette = 8;
};

/// Checks bounds, text sizes, UTF-8, ids and that every speaker is in the shot;
/// the error names the field and what was expected.
result<void> validate(const shot_spec& spec);

}  // namespace reelfarm::media
