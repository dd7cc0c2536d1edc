#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/media/encode_settings.hpp"
#include "reelfarm/media/shot_spec.hpp"
#include "reelfarm/media/speech_engine.hpp"
#include "reelfarm/media/subtitles.hpp"

namespace reelfarm::media {

/// What the renderer needs from the machine it runs on.
struct render_options {
  /// Holds DejaVuSans.ttf and DejaVuSans-Bold.ttf (Debian: fonts-dejavu-core).
  std::filesystem::path font_dir = "/usr/share/fonts/truetype/dejavu";
  /// The speech engine; one that is not available renders silent dialogue with a warning.
  speech_engine speech;
  /// Codec settings; width, height and fps are taken from each shot.
  encode_settings encoding;
};

/// One rendered shot: its segment file and timing.
struct segment_info {
  std::string shot_id;
  std::filesystem::path file;
  std::int64_t frames = 0;
  int fps = 24;
  double duration_s = 0;           ///< frames / fps: the plan the segment must match
  std::int64_t audio_samples = 0;  ///< at 48 kHz, whole AAC frames
  std::vector<cue> cues;           ///< dialogue timings relative to the shot's start
  std::vector<std::string> warnings;
};

/// The built-in animatic renderer: draws a shot as a moving storyboard, speaks
/// its dialogue and encodes one MP4 segment. Deterministic: the same spec on
/// the same build gives the same bytes. One instance per thread.
class shot_renderer {
 public:
  /// Loads the fonts; fails with a clear error when they are missing.
  static result<shot_renderer> create(render_options options);

  shot_renderer(shot_renderer&&) noexcept;
  shot_renderer& operator=(shot_renderer&&) noexcept;
  ~shot_renderer();

  /// Validates `spec`, renders it and writes `out_file` (via a temporary file,
  /// so a failed render leaves nothing half-written).
  result<segment_info> render(const shot_spec& spec, const std::filesystem::path& out_file);

  /// Paints one frame as packed RGB24 (width * height * 3 bytes), for previews
  /// and tests. Dialogue timing uses estimated speech lengths.
  result<std::vector<std::uint8_t>> still(const shot_spec& spec, int frame);

  /// The implementation's state (fonts, options); not part of the interface.
  struct impl;

 private:
  explicit shot_renderer(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace reelfarm::media
