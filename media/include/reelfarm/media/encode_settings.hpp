#pragma once

#include <string>

namespace reelfarm::media {

/// Codec parameters of every segment. All segments of a film must share them
/// (the joiner checks), so the farm uses the defaults and only benchmarks vary
/// preset or threads.
struct encode_settings {
  int width = 1280;
  int height = 720;
  int fps = 24;
  std::string preset = "veryfast";  ///< libx264 preset
  int crf = 23;                     ///< libx264 constant rate factor
  std::string profile = "high";     ///< H.264 profile
  /// Encoder threads. Fixed (never "auto") so that output bytes do not depend
  /// on the machine's core count: x264 is deterministic for a given count.
  int threads = 2;
  int gop_seconds = 2;  ///< a keyframe at least this often, for seeking
  bool audio = true;    ///< false: video only (benchmarks)
  int sample_rate = 48000;
  int audio_bitrate = 96000;  ///< AAC, mono
};

}  // namespace reelfarm::media
