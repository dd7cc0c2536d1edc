#pragma once

#include <cstdint>
#include <vector>

#include "reelfarm/media/shot_spec.hpp"

namespace reelfarm::media::detail {

/// When one dialogue line is spoken within its shot.
struct line_timing {
  std::size_t line = 0;     ///< index into shot_spec::dialogue
  std::size_t speaker = 0;  ///< index into shot_spec::characters
  double start_s = 0;
  double end_s = 0;
  std::vector<float> samples;  ///< speech at 48 kHz; empty when no engine spoke it
  std::vector<float> mouth;    ///< mouth opening 0..1 per frame of the line
};

/// The timing of one shot: how long it lasts (at least its plan, at least its
/// speech), when each line is spoken, and the mixed audio.
class shot_timeline {
 public:
  /// Lays out the lines one after another; `clips[i]` is line i's speech
  /// (empty: estimated from the words and the voice's speed).
  shot_timeline(const shot_spec& spec, std::vector<std::vector<float>> clips);

  int frames() const noexcept { return frames_; }
  int fps() const noexcept { return fps_; }
  double duration_s() const noexcept { return static_cast<double>(frames_) / fps_; }
  /// Audio length: the video's length rounded up to whole AAC frames (1024 samples).
  std::int64_t audio_samples() const noexcept { return audio_samples_; }
  const std::vector<line_timing>& lines() const noexcept { return lines_; }

  /// The line spoken at `frame`, or nullptr.
  const line_timing* active_line(int frame) const;
  /// How far `character` opens its mouth at `frame` (0 when silent).
  double mouth_open(std::size_t character, int frame) const;
  /// The whole shot's audio, mono 48 kHz, `audio_samples()` long.
  std::vector<float> mix() const;

  static constexpr double lead_in_s = 0.4;  ///< silence before the first line
  static constexpr double gap_s = 0.35;     ///< silence between lines
  static constexpr double tail_s = 0.6;     ///< silence after the last line

 private:
  int fps_;
  int frames_ = 1;
  std::int64_t audio_samples_ = 0;
  std::vector<line_timing> lines_;
};

}  // namespace reelfarm::media::detail
