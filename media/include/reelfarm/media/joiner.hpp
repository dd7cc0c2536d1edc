#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "reelfarm/common/result.hpp"

namespace reelfarm::media {

/// What a join produced.
struct join_stats {
  std::int64_t video_frames = 0;
  double video_duration_s = 0;
  double audio_duration_s = 0;
  std::vector<double> starts_s;  ///< where each input begins in the output
};

/// Joins MP4 segments (or joined scenes) into one MP4 by stream copy: no
/// re-encode, `+faststart`. All inputs must share codec parameters; the error
/// names the first one that differs. Audio stays continuous and within half an
/// AAC frame (about 11 ms) of each input's video start: each input's encoder
/// priming is dropped and its tail trimmed to whole AAC frames.
result<join_stats> join_segments(const std::vector<std::filesystem::path>& inputs,
                                 const std::filesystem::path& output);

}  // namespace reelfarm::media
