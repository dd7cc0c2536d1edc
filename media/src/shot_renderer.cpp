#include "reelfarm/media/shot_renderer.hpp"

#include <cstdio>

#include "canvas.hpp"
#include "font.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/media/errc.hpp"
#include "reelfarm/media/segment_writer.hpp"
#include "scene_painter.hpp"
#include "shot_timeline.hpp"

namespace reelfarm::media {

using namespace detail;

struct shot_renderer::impl {
  render_options options;
  font regular;
  font bold;
  bool warned_no_speech = false;
};

namespace {

struct speech_result {
  std::vector<std::vector<float>> clips;
  std::vector<std::string> warnings;
};

speech_result speak_lines(shot_renderer::impl& r, const shot_spec& spec,
                          const std::filesystem::path& scratch) {
  speech_result out;
  out.clips.resize(spec.dialogue.size());
  if (spec.dialogue.empty()) {
    return out;
  }
  if (!r.options.speech.available()) {
    std::string why = r.options.speech.program().empty()
                          ? "speech is switched off"
                          : "no speech engine at " + r.options.speech.program().string();
    out.warnings.push_back(why + ": dialogue of shot '" + spec.id + "' is silent (captions only)");
    if (!r.warned_no_speech) {
      log::warn("media", "speech engine unavailable; dialogue will be silent",
                {{"program", r.options.speech.program().string()}});
      r.warned_no_speech = true;
    }
    return out;
  }
  for (std::size_t i = 0; i < spec.dialogue.size(); ++i) {
    const auto& line = spec.dialogue[i];
    voice_ref voice;
    for (const auto& c : spec.characters) {
      voice = c.name == line.character ? c.voice : voice;
    }
    auto clip = r.options.speech.speak(voice, line.text, scratch);
    if (!clip && voice.name != "en") {
      // An unknown voice on this node: keep the line audible with the default voice.
      out.warnings.push_back(clip.error().message() + "; used the default voice");
      clip = r.options.speech.speak(voice_ref{"en", voice.pitch, voice.speed}, line.text, scratch);
    }
    if (!clip) {
      out.warnings.push_back("line " + std::to_string(i + 1) + " of shot '" + spec.id +
                             "' is silent: " + clip.error().message());
      continue;
    }
    out.clips[i] = std::move(*clip);
  }
  return out;
}

std::vector<cue> cues_of(const shot_spec& spec, const shot_timeline& timeline) {
  std::vector<cue> cues;
  for (const auto& line : timeline.lines()) {
    const auto& d = spec.dialogue[line.line];
    cues.push_back(
        {line.start_s, std::min(line.end_s, timeline.duration_s()), d.character, d.text});
  }
  return cues;
}

result<void> encode_frames(const shot_spec& spec, const shot_timeline& timeline,
                           const shot_renderer::frame_fill& fill, segment_writer& writer) {
  std::vector<float> audio = timeline.mix();
  const std::int64_t rate = speech_engine::sample_rate;
  std::int64_t written = 0;
  for (int f = 0; f < timeline.frames(); ++f) {
    auto rgb = fill(f);
    if (!rgb) {
      return rgb.error();
    }
    if (auto r = writer.write_rgb(*rgb, spec.width * 3); !r) {
      return r;
    }
    // Audio follows the video frame by frame, so the muxer interleaves them closely.
    std::int64_t until =
        std::min<std::int64_t>((f + 1) * rate / spec.fps, timeline.audio_samples());
    if (f + 1 == timeline.frames()) {
      until = timeline.audio_samples();
    }
    if (auto r =
            writer.write_audio({audio.data() + written, static_cast<std::size_t>(until - written)});
        !r) {
      return r;
    }
    written = until;
  }
  return ok();
}

}  // namespace

shot_renderer::shot_renderer(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
shot_renderer::shot_renderer(shot_renderer&&) noexcept = default;
shot_renderer& shot_renderer::operator=(shot_renderer&&) noexcept = default;
shot_renderer::~shot_renderer() = default;

result<shot_renderer> shot_renderer::create(render_options options) {
  auto regular = font::load(options.font_dir / "DejaVuSans.ttf");
  if (!regular) {
    return regular.error();
  }
  auto bold = font::load(options.font_dir / "DejaVuSans-Bold.ttf");
  if (!bold) {
    return bold.error();
  }
  return shot_renderer(
      std::unique_ptr<impl>(new impl{std::move(options), std::move(*regular), std::move(*bold)}));
}

result<segment_info> shot_renderer::render(const shot_spec& spec,
                                           const std::filesystem::path& out_file) {
  return render_with(spec, nullptr, out_file);
}

result<segment_info> shot_renderer::render_frames(const shot_spec& spec, const frame_fill& fill,
                                                  const std::filesystem::path& out_file) {
  return render_with(spec, &fill, out_file);
}

result<segment_info> shot_renderer::render_with(const shot_spec& spec, const frame_fill* pictures,
                                                const std::filesystem::path& out_file) {
  if (auto valid = validate(spec); !valid) {
    return valid.error();
  }
  auto scratch =
      out_file.parent_path().empty() ? std::filesystem::path(".") : out_file.parent_path();
  auto speech = speak_lines(*impl_, spec, scratch);
  shot_timeline timeline(spec, std::move(speech.clips));
  scene_painter painter(spec, timeline, {impl_->regular, impl_->bold});
  canvas frame(spec.width, spec.height);
  // The animatic paints each frame; generated pictures come from the caller.
  frame_fill paint = [&](int f) -> result<const std::uint8_t*> {
    painter.paint(frame, f);
    return frame.data();
  };
  const frame_fill& fill = pictures != nullptr ? *pictures : paint;
  encode_settings settings = impl_->options.encoding;
  settings.width = spec.width;
  settings.height = spec.height;
  settings.fps = spec.fps;
  settings.audio = true;
  auto part = out_file;
  part += ".part";
  {
    auto writer = segment_writer::open(part, settings);
    if (!writer) {
      return writer.error();
    }
    auto encoded = encode_frames(spec, timeline, fill, *writer);
    auto stats = encoded ? writer->finish() : result<segment_stats>(encoded.error());
    if (!stats) {
      std::error_code ignored;
      std::filesystem::remove(part, ignored);
      return stats.error();
    }
  }
  std::error_code ec;
  std::filesystem::rename(part, out_file, ec);
  if (ec) {
    return error(media_errc::io,
                 "cannot move the segment to " + out_file.string() + ": " + ec.message());
  }
  for (const auto& w : speech.warnings) {
    log::warn("media", w, {{"shot", spec.id}});
  }
  return segment_info{spec.id,
                      out_file,
                      timeline.frames(),
                      spec.fps,
                      timeline.duration_s(),
                      timeline.audio_samples(),
                      cues_of(spec, timeline),
                      std::move(speech.warnings)};
}

result<std::vector<std::uint8_t>> shot_renderer::still(const shot_spec& spec, int frame) {
  if (auto valid = validate(spec); !valid) {
    return valid.error();
  }
  shot_timeline timeline(spec, {});
  if (frame < 0 || frame >= timeline.frames()) {
    return error(media_errc::invalid_spec, "frame " + std::to_string(frame) +
                                               " is outside the shot's " +
                                               std::to_string(timeline.frames()) + " frames");
  }
  scene_painter painter(spec, timeline, {impl_->regular, impl_->bold});
  canvas c(spec.width, spec.height);
  painter.paint(c, frame);
  return std::vector<std::uint8_t>(c.data(), c.data() + spec.width * spec.height * 3);
}

}  // namespace reelfarm::media
