#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace reelfarm::screenplay {

/// What a consistency reference keeps consistent.
enum class reference_kind { character, location };

/// A colour of a reference's palette.
struct rgb {
  std::uint8_t r = 0;
  std::uint8_t g = 0;
  std::uint8_t b = 0;

  /// "#rrggbb".
  std::string hex() const;
  friend bool operator==(const rgb&, const rgb&) = default;
};

/// How a character sounds when the renderer speaks for them: an espeak-ng
/// voice (language plus variant, e.g. "en-us+f3"), pitch 0-99 and words per minute.
struct voice_profile {
  std::string name;
  int pitch = 50;
  int speed_wpm = 150;
  friend bool operator==(const voice_profile&, const voice_profile&) = default;
};

/// Keeps one character or location looking (and sounding) the same in every
/// shot and on every render node. Everything in it is derived from the
/// project key and the normalised name with a stable hash, so the same
/// screenplay always plans the same references.
struct consistency_reference {
  reference_kind kind = reference_kind::character;
  std::string name;  ///< normalised: "JOHN", "TEMPLE"
  std::string id;    ///< "chr-" or "loc-" and 16 hex digits; stable
  /// The seed renderers draw from; 53 bits so that JSON readers keep it exact.
  std::uint64_t seed = 0;
  std::array<rgb, 4> palette{};
  voice_profile voice;           ///< characters only; empty name for locations
  std::string image;             ///< a reference image, where one is given; empty otherwise
  std::uint32_t first_line = 0;  ///< source line of the first appearance
  std::uint32_t shots = 0;       ///< shots the character or location appears in
};

/// Derives the reference of `name` (already normalised) in the project
/// `project_key`. `speaking_rate_wpm` centres the voice's speed so that
/// speech fits the planned dialogue durations.
consistency_reference make_reference(reference_kind kind, std::string_view project_key,
                                     std::string_view name, int speaking_rate_wpm = 150);

/// "character" or "location".
std::string_view to_string(reference_kind kind) noexcept;

}  // namespace reelfarm::screenplay
