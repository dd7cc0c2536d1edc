#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/media/shot_spec.hpp"

namespace reelfarm::media {

/// Speaks text with the espeak-ng program. The program's path is injected so
/// that a node without a speech engine (or a test simulating one) still
/// renders: `available()` is false and the renderer warns and stays silent.
class speech_engine {
 public:
  /// Sample rate of everything `speak` returns.
  static constexpr int sample_rate = 48000;

  /// Uses /usr/bin/espeak-ng (Debian's espeak-ng package).
  speech_engine() : speech_engine("/usr/bin/espeak-ng") {}
  /// Uses the program at `program`; a path that does not exist means "no engine".
  explicit speech_engine(std::filesystem::path program);

  /// True when the program exists and is executable.
  bool available() const;
  const std::filesystem::path& program() const noexcept { return program_; }

  /// Speaks `text` with `voice` into mono float samples at 48 kHz. Scratch files
  /// go to `scratch_dir` and are removed. Deterministic: same input, same samples.
  result<std::vector<float>> speak(const voice_ref& voice, std::string_view text,
                                   const std::filesystem::path& scratch_dir) const;

 private:
  std::filesystem::path program_;
};

}  // namespace reelfarm::media
