#include "reelfarm/media/film_renderer.hpp"

#include <nlohmann/json.hpp>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/media/checksum.hpp"
#include "reelfarm/media/errc.hpp"
#include "reelfarm/media/joiner.hpp"
#include "reelfarm/media/thumbnail.hpp"

namespace reelfarm::media {
namespace {

using json = nlohmann::json;

result<void> make_dir(const std::filesystem::path& dir) {
  if (auto made = ensure_directory(dir, 0755); !made) {
    return error(media_errc::io, made.error().message());
  }
  return ok();
}

result<void> write_text(const std::filesystem::path& file, const std::string& text) {
  if (auto written = write_file_atomically(file, text, 0644); !written) {
    return error(media_errc::io, written.error().message());
  }
  return ok();
}

// A frame a director would pick: mid-line in the first shot where someone speaks,
// else the middle of the first shot with characters, else of the first shot.
double representative_time(const film_result& film) {
  for (const auto& shot : film.shots) {
    if (!shot.segment.cues.empty()) {
      const auto& c = shot.segment.cues.front();
      return shot.start_s + (c.start_s + c.end_s) / 2;
    }
  }
  const auto& first = film.shots.front();
  return first.start_s + first.segment.duration_s / 2;
}

json file_entry(const std::filesystem::path& file, const std::filesystem::path& base,
                const std::string& sha) {
  return {{"file", std::filesystem::relative(file, base).string()},
          {"bytes", std::filesystem::file_size(file)},
          {"sha256", sha}};
}

result<json> file_entry_of(const std::filesystem::path& file, const std::filesystem::path& base) {
  auto sha = sha256_file(file);
  if (!sha) {
    return sha.error();
  }
  return file_entry(file, base, *sha);
}

json cues_json(const std::vector<cue>& cues) {
  json list = json::array();
  for (const auto& c : cues) {
    list.push_back(
        {{"start_s", c.start_s}, {"end_s", c.end_s}, {"speaker", c.speaker}, {"text", c.text}});
  }
  return list;
}

result<json> manifest_json(const std::string& title, const film_result& film,
                           const std::vector<scene_segments>& scenes,
                           const std::filesystem::path& base) {
  json doc;
  doc["title"] = title;
  doc["duration_s"] = film.duration_s;
  doc["audio_duration_s"] = film.audio_duration_s;
  const auto& first = film.shots.front().segment;
  doc["video"] = {{"codec", "h264"}, {"pix_fmt", "yuv420p"}, {"fps", first.fps}};
  doc["audio"] = {{"codec", "aac"}, {"sample_rate", 48000}, {"channels", 1}};
  doc["film"] = file_entry(film.film, base, film.sha256);
  for (auto [key, path] :
       {std::pair{"srt", &film.srt}, {"vtt", &film.vtt}, {"thumbnail", &film.thumbnail}}) {
    auto entry = file_entry_of(*path, base);
    if (!entry) {
      return entry.error();
    }
    doc[key] = *entry;
  }
  doc["scenes"] = json::array();
  std::size_t shot_index = 0;
  for (std::size_t s = 0; s < scenes.size(); ++s) {
    auto scene_file = file_entry_of(film.scene_files[s], base);
    if (!scene_file) {
      return scene_file.error();
    }
    json scene = {{"id", scenes[s].id}, {"file", *scene_file}, {"shots", json::array()}};
    for (std::size_t k = 0; k < scenes[s].shots.size(); ++k, ++shot_index) {
      const auto& shot = film.shots[shot_index];
      scene["shots"].push_back({{"id", shot.segment.shot_id},
                                {"file", file_entry(shot.segment.file, base, shot.sha256)},
                                {"start_s", shot.start_s},
                                {"duration_s", shot.segment.duration_s},
                                {"frames", shot.segment.frames},
                                {"cues", cues_json(shot.segment.cues)}});
    }
    doc["scenes"].push_back(std::move(scene));
  }
  doc["warnings"] = film.warnings;
  return doc;
}

result<void> join_scenes(const std::vector<scene_segments>& scenes,
                         const std::filesystem::path& out_dir, film_result& film) {
  if (auto made = make_dir(out_dir / "scenes"); !made) {
    return made;
  }
  std::vector<std::vector<double>> starts;
  for (const auto& scene : scenes) {
    std::vector<std::filesystem::path> files;
    for (const auto& shot : scene.shots) {
      files.push_back(shot.file);
    }
    auto scene_file = out_dir / "scenes" / (scene.id + ".mp4");
    auto joined = join_segments(files, scene_file);
    if (!joined) {
      return joined.error();
    }
    film.scene_files.push_back(scene_file);
    starts.push_back(joined->starts_s);
  }
  film.film = out_dir / "film.mp4";
  auto joined = join_segments(film.scene_files, film.film);
  if (!joined) {
    return joined.error();
  }
  film.duration_s = joined->video_duration_s;
  film.audio_duration_s = joined->audio_duration_s;
  for (std::size_t s = 0; s < scenes.size(); ++s) {
    for (std::size_t k = 0; k < scenes[s].shots.size(); ++k) {
      film.shots.push_back(
          {scenes[s].id, scenes[s].shots[k], joined->starts_s[s] + starts[s][k], ""});
    }
  }
  return ok();
}

result<void> write_side_files(film_result& film, const std::filesystem::path& out_dir) {
  for (auto& shot : film.shots) {
    auto sha = sha256_file(shot.segment.file);
    if (!sha) {
      return sha.error();
    }
    shot.sha256 = *sha;
    double end = shot.start_s + shot.segment.duration_s;
    for (const auto& c : shot.segment.cues) {
      film.cues.push_back(
          {shot.start_s + c.start_s, std::min(end, shot.start_s + c.end_s), c.speaker, c.text});
    }
    film.warnings.insert(film.warnings.end(), shot.segment.warnings.begin(),
                         shot.segment.warnings.end());
  }
  film.srt = out_dir / "film.srt";
  film.vtt = out_dir / "film.vtt";
  film.thumbnail = out_dir / "thumbnail.jpg";
  if (auto r = write_text(film.srt, to_srt(film.cues)); !r) {
    return r;
  }
  if (auto r = write_text(film.vtt, to_webvtt(film.cues)); !r) {
    return r;
  }
  auto sha = sha256_file(film.film);
  if (!sha) {
    return sha.error();
  }
  film.sha256 = *sha;
  return make_thumbnail(film.film, representative_time(film), film.thumbnail);
}

}  // namespace

result<film_result> assemble_film(const std::string& title,
                                  const std::vector<scene_segments>& scenes,
                                  const std::filesystem::path& out_dir) {
  bool any = false;
  for (const auto& s : scenes) {
    any = any || !s.shots.empty();
    if (s.shots.empty()) {
      return error(media_errc::invalid_spec, "scene '" + s.id + "' has no rendered shots");
    }
  }
  if (!any) {
    return error(media_errc::invalid_spec, "a film needs at least one rendered shot");
  }
  if (auto made = make_dir(out_dir); !made) {
    return made.error();
  }
  film_result film;
  if (auto r = join_scenes(scenes, out_dir, film); !r) {
    return r.error();
  }
  if (auto r = write_side_files(film, out_dir); !r) {
    return r.error();
  }
  auto manifest = manifest_json(title, film, scenes, out_dir);
  if (!manifest) {
    return manifest.error();
  }
  film.manifest = out_dir / "manifest.json";
  if (auto r = write_text(film.manifest, manifest->dump(2) + "\n"); !r) {
    return r.error();
  }
  log::info("media", "film assembled",
            {{"file", film.film.string()},
             {"duration_s", film.duration_s},
             {"shots", film.shots.size()}});
  return film;
}

result<film_result> render_film(const film_spec& film, const std::filesystem::path& out_dir,
                                render_options options) {
  if (auto valid = validate(film); !valid) {
    return valid.error();
  }
  auto renderer = shot_renderer::create(std::move(options));
  if (!renderer) {
    return renderer.error();
  }
  if (auto made = make_dir(out_dir / "segments"); !made) {
    return made.error();
  }
  std::vector<scene_segments> scenes;
  for (const auto& scene : film.scenes) {
    scene_segments rendered{scene.id, {}};
    for (const auto& shot : scene.shots) {
      auto segment = renderer->render(shot, out_dir / "segments" / (shot.id + ".mp4"));
      if (!segment) {
        return segment.error();
      }
      log::info("media", "shot rendered", {{"shot", shot.id}, {"duration_s", segment->duration_s}});
      rendered.shots.push_back(std::move(*segment));
    }
    scenes.push_back(std::move(rendered));
  }
  return assemble_film(film.title, scenes, out_dir);
}

}  // namespace reelfarm::media
