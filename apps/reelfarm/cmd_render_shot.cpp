// `reelfarm render-shot`: renders one shot, or a whole film spec, on this
// machine with the built-in animatic renderer. For debugging: no farm, no
// database, no credits.
#include <cstdio>
#include <optional>
#include <string>

#include "commands.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/media/film_renderer.hpp"
#include "reelfarm/media/png.hpp"
#include "reelfarm/media/shot_renderer.hpp"
#include "reelfarm/media/spec_json.hpp"

namespace reelfarm::app {
namespace {

constexpr const char* usage =
    "usage: reelfarm render-shot (--spec SHOT.json | --film FILM.json) --out DIR\n"
    "                            [--still FRAME] [--espeak PATH | --no-speech] [--font-dir DIR]\n"
    "\n"
    "  --spec FILE     render one shot_spec to DIR/<shot id>.mp4\n"
    "  --film FILE     render every shot of a film spec and assemble DIR/film.mp4,\n"
    "                  scenes, film.srt, film.vtt, thumbnail.jpg and manifest.json\n"
    "  --still FRAME   with --spec: also write frame FRAME as DIR/<shot id>-FRAME.png\n"
    "  --espeak PATH   the espeak-ng program (default /usr/bin/espeak-ng)\n"
    "  --no-speech     render dialogue silently (captions only)\n"
    "  --font-dir DIR  folder with DejaVuSans.ttf and DejaVuSans-Bold.ttf\n"
    "\nSpec formats: docs/media.md.\n";

struct render_shot_args {
  std::string spec, film, out, espeak = "/usr/bin/espeak-ng", font_dir;
  std::optional<int> still;
};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "reelfarm render-shot: %s\n\n%s", message.c_str(), usage);
  return exit_usage;
}

int failure(const error& e) {
  std::fprintf(stderr, "reelfarm render-shot: %s\n", e.full_text().c_str());
  return exit_failure;
}

// Returns an exit code when parsing ends the command (help or a usage error).
std::optional<int> parse(const std::vector<std::string>& args, render_shot_args& out) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::fputs(usage, stdout);
      return exit_ok;
    }
    if (a == "--no-speech") {
      out.espeak.clear();
      continue;
    }
    if (i + 1 >= args.size()) {
      return usage_error(a.starts_with("--") ? a + " needs a value"
                                             : "unexpected argument '" + a + "'");
    }
    const std::string& v = args[++i];
    if (a == "--spec") {
      out.spec = v;
    } else if (a == "--film") {
      out.film = v;
    } else if (a == "--out") {
      out.out = v;
    } else if (a == "--espeak") {
      out.espeak = v;
    } else if (a == "--font-dir") {
      out.font_dir = v;
    } else if (a == "--still") {
      try {
        out.still = std::stoi(v);
      } catch (const std::exception&) {
        return usage_error("--still needs a frame number");
      }
    } else {
      return usage_error("unknown flag '" + a + "'");
    }
  }
  if (out.spec.empty() == out.film.empty()) {
    return usage_error("give exactly one of --spec and --film");
  }
  if (out.out.empty()) {
    return usage_error("--out DIR is required");
  }
  return std::nullopt;
}

int render_one(const render_shot_args& args, media::render_options options) {
  auto text = read_file(args.spec);
  if (!text) {
    return failure(text.error());
  }
  auto spec = media::parse_shot_spec(*text);
  if (!spec) {
    return failure(spec.error());
  }
  auto renderer = media::shot_renderer::create(std::move(options));
  if (!renderer) {
    return failure(renderer.error());
  }
  std::filesystem::path dir = args.out;
  auto segment = renderer->render(*spec, dir / (spec->id + ".mp4"));
  if (!segment) {
    return failure(segment.error());
  }
  std::printf("%s: %lld frames, %.3f s, %zu dialogue cues\n", segment->file.c_str(),
              static_cast<long long>(segment->frames), segment->duration_s, segment->cues.size());
  for (const auto& w : segment->warnings) {
    std::fprintf(stderr, "warning: %s\n", w.c_str());
  }
  if (args.still) {
    auto pixels = renderer->still(*spec, *args.still);
    if (!pixels) {
      return failure(pixels.error());
    }
    auto png = dir / (spec->id + "-" + std::to_string(*args.still) + ".png");
    if (auto r = media::write_png(*pixels, spec->width, spec->height, png); !r) {
      return failure(r.error());
    }
    std::printf("%s\n", png.c_str());
  }
  return exit_ok;
}

int render_whole_film(const render_shot_args& args, media::render_options options) {
  auto text = read_file(args.film);
  if (!text) {
    return failure(text.error());
  }
  auto film = media::parse_film_spec(*text);
  if (!film) {
    return failure(film.error());
  }
  auto result = media::render_film(*film, args.out, std::move(options));
  if (!result) {
    return failure(result.error());
  }
  std::printf("%s: %.3f s, %zu shots\n%s\n%s\n%s\n%s\n", result->film.c_str(), result->duration_s,
              result->shots.size(), result->srt.c_str(), result->vtt.c_str(),
              result->thumbnail.c_str(), result->manifest.c_str());
  for (const auto& w : result->warnings) {
    std::fprintf(stderr, "warning: %s\n", w.c_str());
  }
  return exit_ok;
}

}  // namespace

int cmd_render_shot(const std::vector<std::string>& args, const global_options& /*options*/) {
  render_shot_args parsed;
  if (auto done = parse(args, parsed)) {
    return *done;
  }
  if (auto made = ensure_directory(parsed.out, 0755); !made) {
    return failure(made.error());
  }
  media::render_options options;
  options.speech = media::speech_engine(parsed.espeak.empty() ? "" : parsed.espeak);
  if (!parsed.font_dir.empty()) {
    options.font_dir = parsed.font_dir;
  }
  return parsed.spec.empty() ? render_whole_film(parsed, std::move(options))
                             : render_one(parsed, std::move(options));
}

}  // namespace reelfarm::app
