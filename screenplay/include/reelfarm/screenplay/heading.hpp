#pragma once

#include <string>
#include <string_view>

namespace reelfarm::screenplay {

/// Where a scene takes place relative to walls.
enum class scene_setting { unspecified, interior, exterior, interior_exterior, establishing };

/// What a scene heading says: "INT. TEMPLE - MORNING" is an interior, at the
/// location TEMPLE, in the MORNING.
struct scene_place {
  scene_setting setting = scene_setting::unspecified;
  std::string location;     ///< upper case, spaces collapsed; "" when the heading is empty
  std::string time_of_day;  ///< upper case; "" when the heading names none
};

/// Reads a scene heading's text (as in element::text). The last " - " part is
/// the time of day when it names one (DAY, NIGHT, MORNING, LATER, CONTINUOUS,
/// ...); otherwise it stays part of the location, so "EXT. HOUSE - GARDEN" is
/// the location "HOUSE - GARDEN".
scene_place parse_scene_heading(std::string_view heading);

/// "interior", "exterior", "interior_exterior", "establishing" or "unspecified".
std::string_view to_string(scene_setting setting) noexcept;

/// The name a character goes by across the screenplay: extensions such as
/// (V.O.), (O.S.) and (CONT'D) removed, a forcing `@` and a dual dialogue `^`
/// removed, spaces collapsed, upper case. "John (V.O.)" and "JOHN" are "JOHN".
std::string normalize_character_name(std::string_view name);

}  // namespace reelfarm::screenplay
