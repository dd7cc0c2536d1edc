#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "reelfarm/common/result.hpp"

namespace reelfarm::media::detail {

/// Mono PCM decoded from a WAV file.
struct pcm {
  int sample_rate = 0;
  std::vector<float> samples;  ///< -1..1, first channel only
};

/// Parses a RIFF/WAVE file holding 16-bit PCM (what espeak-ng writes).
result<pcm> parse_wav(std::string_view bytes);

/// Resamples mono float samples with libswresample (deterministic).
result<std::vector<float>> resample(const std::vector<float>& in, int from_rate, int to_rate);

}  // namespace reelfarm::media::detail
