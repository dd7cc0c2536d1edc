#include "shot_timeline.hpp"

#include <algorithm>
#include <cmath>

#include "reelfarm/media/speech_engine.hpp"

namespace reelfarm::media::detail {
namespace {

constexpr int rate = speech_engine::sample_rate;

std::size_t speaker_of(const shot_spec& spec, const dialogue_line& line) {
  for (std::size_t i = 0; i < spec.characters.size(); ++i) {
    if (spec.characters[i].name == line.character) {
      return i;
    }
  }
  return 0;
}

// Without a speech engine a line still takes the time it would take to say.
double estimated_seconds(const dialogue_line& line, int words_per_minute) {
  int words = 1;
  for (std::size_t i = 1; i < line.text.size(); ++i) {
    words += line.text[i] == ' ' && line.text[i - 1] != ' ' ? 1 : 0;
  }
  return std::max(1.0, words * 60.0 / words_per_minute + 0.3);
}

// Mouth opening per frame from the speech's loudness, so lips follow the audio.
std::vector<float> mouth_track(const line_timing& t, int fps) {
  int count = static_cast<int>(std::ceil((t.end_s - t.start_s) * fps)) + 1;
  std::vector<float> mouth(static_cast<std::size_t>(count), 0.0f);
  std::size_t per_frame = static_cast<std::size_t>(rate / fps);
  for (int f = 0; f < count; ++f) {
    if (t.samples.empty()) {
      mouth[f] = (f / 3) % 2 == 0 ? 0.7f : 0.15f;  // a plain chatter when we cannot hear it
      continue;
    }
    double sum = 0;
    std::size_t from = static_cast<std::size_t>(f) * per_frame;
    std::size_t to = std::min(t.samples.size(), from + per_frame);
    for (std::size_t i = from; i < to; ++i) {
      sum += t.samples[i] * t.samples[i];
    }
    double rms = to > from ? std::sqrt(sum / static_cast<double>(to - from)) : 0.0;
    mouth[f] = static_cast<float>(std::min(1.0, rms * 5.0));
  }
  return mouth;
}

}  // namespace

shot_timeline::shot_timeline(const shot_spec& spec, std::vector<std::vector<float>> clips)
    : fps_(spec.fps) {
  double t = lead_in_s;
  for (std::size_t i = 0; i < spec.dialogue.size(); ++i) {
    line_timing timing;
    timing.line = i;
    timing.speaker = speaker_of(spec, spec.dialogue[i]);
    timing.samples = i < clips.size() ? std::move(clips[i]) : std::vector<float>{};
    const auto& voice =
        spec.characters.empty() ? voice_ref{} : spec.characters[timing.speaker].voice;
    double length = timing.samples.empty() ? estimated_seconds(spec.dialogue[i], voice.speed)
                                           : static_cast<double>(timing.samples.size()) / rate;
    // Lines start on a frame boundary so captions and lips change with frames.
    timing.start_s = std::ceil(t * fps_ - 1e-9) / fps_;
    timing.end_s = timing.start_s + length;
    timing.mouth = mouth_track(timing, fps_);
    t = timing.end_s + gap_s;
    lines_.push_back(std::move(timing));
  }
  double needed = lines_.empty() ? 0.0 : lines_.back().end_s + tail_s;
  double seconds = std::max(spec.duration_s, needed);
  frames_ = std::max(1, static_cast<int>(std::ceil(seconds * fps_ - 1e-6)));
  std::int64_t video_samples = static_cast<std::int64_t>(frames_) * rate / fps_;
  audio_samples_ = (video_samples + 1023) / 1024 * 1024;
}

const line_timing* shot_timeline::active_line(int frame) const {
  double t = static_cast<double>(frame) / fps_;
  for (const auto& line : lines_) {
    if (t >= line.start_s && t < line.end_s) {
      return &line;
    }
  }
  return nullptr;
}

double shot_timeline::mouth_open(std::size_t character, int frame) const {
  const auto* line = active_line(frame);
  if (line == nullptr || line->speaker != character) {
    return 0.0;
  }
  auto index = static_cast<std::size_t>(
      std::max(0, frame - static_cast<int>(std::lround(line->start_s * fps_))));
  return index < line->mouth.size() ? line->mouth[index] : 0.0;
}

std::vector<float> shot_timeline::mix() const {
  std::vector<float> out(static_cast<std::size_t>(audio_samples_), 0.0f);
  for (const auto& line : lines_) {
    auto start = static_cast<std::size_t>(std::llround(line.start_s * rate));
    std::size_t fade = rate / 200;  // 5 ms fades: no clicks at the clip's edges
    for (std::size_t i = 0; i < line.samples.size() && start + i < out.size(); ++i) {
      double gain = 0.9;
      gain *= std::min(1.0, static_cast<double>(i) / fade);
      gain *= std::min(1.0, static_cast<double>(line.samples.size() - i) / fade);
      out[start + i] += static_cast<float>(line.samples[i] * gain);
    }
  }
  for (auto& s : out) {
    s = std::clamp(s, -1.0f, 1.0f);
  }
  return out;
}

}  // namespace reelfarm::media::detail
