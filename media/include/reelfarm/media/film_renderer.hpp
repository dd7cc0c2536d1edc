#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/media/film_spec.hpp"
#include "reelfarm/media/shot_renderer.hpp"

namespace reelfarm::media {

/// The rendered segments of one scene, in order (from this node or from many).
struct scene_segments {
  std::string id;
  std::vector<segment_info> shots;
};

/// One shot as placed in the film.
struct placed_shot {
  std::string scene_id;
  segment_info segment;
  double start_s = 0;  ///< where the shot begins in the film
  std::string sha256;  ///< of its segment file
};

/// Everything assembly produced; paths are inside the output folder.
struct film_result {
  std::filesystem::path film, srt, vtt, thumbnail, manifest;
  std::vector<std::filesystem::path> scene_files;
  double duration_s = 0;
  double audio_duration_s = 0;
  std::string sha256;  ///< of the film file
  std::vector<placed_shot> shots;
  std::vector<cue> cues;  ///< film time
  std::vector<std::string> warnings;
};

/// Joins segments into scenes (scenes/<id>.mp4) and scenes into film.mp4 by
/// stream copy, writes film.srt, film.vtt, thumbnail.jpg (1280x720) and
/// manifest.json (durations, shots, SHA-256 checksums) into `out_dir`.
result<film_result> assemble_film(const std::string& title,
                                  const std::vector<scene_segments>& scenes,
                                  const std::filesystem::path& out_dir);

/// Renders every shot of `film` into `out_dir`/segments on this machine, then
/// assembles it: the whole film without the farm.
result<film_result> render_film(const film_spec& film, const std::filesystem::path& out_dir,
                                render_options options);

}  // namespace reelfarm::media
