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
  /// Encoder threads. One, so that a shot renders the same bytes every time:
  /// with 2 frame (or slice) threads x264's output was measured to vary from
  /// run to run on a loaded machine (Debian 12's x264 0.164, one film in
  /// three to four). A render node uses more cores by rendering more shots
  /// at once (slots), not by splitting one shot's encode.
  int threads = 1;
  int gop_seconds = 2;  ///< a keyframe at least this often, for seeking
  bool audio = true;    ///< false: video only (benchmarks)
  int sample_rate = 48000;
  int audio_bitrate = 96000;  ///< AAC, mono
};

}  // namespace reelfarm::media
