#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of the media module: specs, fonts, speech, encoding, assembly.
enum class media_errc {
  invalid_spec = 1,  ///< a shot or film spec breaks a rule (bounds, sizes, references)
  font,              ///< a font file cannot be loaded
  speech,            ///< the speech engine ran but failed
  encode,            ///< libavcodec/libavformat failed while writing
  decode,            ///< an input file cannot be opened or decoded
  mismatch,          ///< segments to join differ in their codec parameters
  io,                ///< a file cannot be read or written
};

std::string_view category_of(media_errc) noexcept;
std::string_view to_string(media_errc code) noexcept;

}  // namespace reelfarm
