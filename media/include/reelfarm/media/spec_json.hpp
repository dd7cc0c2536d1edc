#pragma once

#include <string_view>

#include "reelfarm/common/result.hpp"
#include "reelfarm/media/film_spec.hpp"
#include "reelfarm/media/shot_spec.hpp"

/// JSON forms of the specs (docs/media.md shows them). Parsing also validates.
namespace reelfarm::media {

/// Parses and validates one shot_spec from JSON text.
result<shot_spec> parse_shot_spec(std::string_view json_text);

/// Parses and validates a film: {"title", "width"?, "height"?, "fps"?, "watermark"?,
/// "scenes": [{"id", "shots": [shot...]}]}; film-level values are defaults for shots.
result<film_spec> parse_film_spec(std::string_view json_text);

}  // namespace reelfarm::media
