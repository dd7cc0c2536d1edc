#include "reelfarm/media/subtitles.hpp"

#include <cmath>
#include <cstdio>

namespace reelfarm::media {
namespace {

std::string timestamp(double seconds, char separator) {
  auto ms = static_cast<long long>(std::llround(std::max(0.0, seconds) * 1000.0));
  char text[32];
  std::snprintf(text, sizeof text, "%02lld:%02lld:%02lld%c%03lld", ms / 3600000, ms / 60000 % 60,
                ms / 1000 % 60, separator, ms % 1000);
  return text;
}

// Cue text may not contain blank lines (they end a cue in both formats).
std::string one_paragraph(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += (c == '\n' || c == '\r') ? ' ' : c;
  }
  return out;
}

std::string vtt_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : std::string(1, c);
  }
  return out;
}

}  // namespace

std::string to_srt(const std::vector<cue>& cues) {
  std::string out;
  int number = 1;
  for (const auto& c : cues) {
    out += std::to_string(number++) + "\n" + timestamp(c.start_s, ',') + " --> " +
           timestamp(c.end_s, ',') + "\n" +
           (c.speaker.empty() ? "" : one_paragraph(c.speaker) + ": ") + one_paragraph(c.text) +
           "\n\n";
  }
  return out;
}

std::string to_webvtt(const std::vector<cue>& cues) {
  std::string out = "WEBVTT\n\n";
  int number = 1;
  for (const auto& c : cues) {
    out += std::to_string(number++) + "\n" + timestamp(c.start_s, '.') + " --> " +
           timestamp(c.end_s, '.') + "\n" +
           (c.speaker.empty() ? "" : "<v " + vtt_escape(one_paragraph(c.speaker)) + ">") +
           vtt_escape(one_paragraph(c.text)) + "\n\n";
  }
  return out;
}

}  // namespace reelfarm::media
