#pragma once

#include <string>
#include <vector>

namespace reelfarm::media {

/// One subtitle: who speaks what, when (seconds from the start of its shot or film).
struct cue {
  double start_s = 0;
  double end_s = 0;
  std::string speaker;
  std::string text;
};

/// SubRip: numbered cues, "HH:MM:SS,mmm --> HH:MM:SS,mmm", "SPEAKER: text".
std::string to_srt(const std::vector<cue>& cues);
/// WebVTT: "WEBVTT" header, "HH:MM:SS.mmm" times, speakers as <v NAME> voice spans.
std::string to_webvtt(const std::vector<cue>& cues);

}  // namespace reelfarm::media
