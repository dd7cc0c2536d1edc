// The animatic backend: a lease's spec is a media shot_spec plus where the
// segment goes in the shared media folder. Rendering happens in-process with
// media::shot_renderer (one renderer per lease: it is not thread-safe).
#include "reelfarm/farm/node/animatic_backend.hpp"

#include <fstream>

#include <nlohmann/json.hpp>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/farm/errc.hpp"
#include "reelfarm/media/checksum.hpp"
#include "reelfarm/media/errc.hpp"
#include "reelfarm/media/shot_renderer.hpp"
#include "reelfarm/media/spec_json.hpp"

namespace reelfarm::farm {
namespace {

using json = nlohmann::json;

struct lease_spec {
  media::shot_spec shot;
  std::filesystem::path output;  ///< relative to the media folder
};

// A relative path without "..": a node writes only inside its media folder.
bool safe_relative(const std::filesystem::path& p) {
  if (p.empty() || p.is_absolute()) {
    return false;
  }
  for (const auto& part : p) {
    if (part == "..") {
      return false;
    }
  }
  return p.extension() == ".mp4";
}

result<lease_spec> parse_lease_spec(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("shot") ||
      !doc["output"].is_string()) {
    return error(farm_errc::invalid_argument,
                 "an animatic spec is {\"shot\": {...}, \"output\": \"path.mp4\"}");
  }
  auto shot = media::parse_shot_spec(doc["shot"].dump());
  if (!shot) {
    return error(farm_errc::invalid_argument, "invalid shot: " + shot.error().message());
  }
  std::filesystem::path output = doc["output"].get<std::string>();
  if (!safe_relative(output)) {
    return error(farm_errc::invalid_argument,
                 "output must be a relative .mp4 path inside the media folder: " + output.string());
  }
  return lease_spec{std::move(shot).value(), output};
}

result<void> write_file(const std::filesystem::path& file, const std::string& text) {
  auto part = file;
  part += ".part";
  {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) {
      return error(farm_errc::backend, "cannot write " + part.string());
    }
  }
  std::error_code ec;
  std::filesystem::rename(part, file, ec);
  if (ec) {
    return error(farm_errc::backend, "cannot rename " + part.string() + ": " + ec.message());
  }
  return ok();
}

}  // namespace

std::string segment_to_json(const media::segment_info& s) {
  json cues = json::array();
  for (const auto& c : s.cues) {
    cues.push_back(
        {{"start_s", c.start_s}, {"end_s", c.end_s}, {"speaker", c.speaker}, {"text", c.text}});
  }
  return json{{"shot", s.shot_id},
              {"frames", s.frames},
              {"fps", s.fps},
              {"duration_s", s.duration_s},
              {"audio_samples", s.audio_samples},
              {"cues", cues},
              {"warnings", s.warnings}}
      .dump();
}

result<media::segment_info> segment_from_json(const std::string& text,
                                              const std::filesystem::path& file) {
  try {
    auto doc = json::parse(text);
    media::segment_info s;
    s.shot_id = doc.at("shot").get<std::string>();
    s.file = file;
    s.frames = doc.at("frames").get<std::int64_t>();
    s.fps = doc.at("fps").get<int>();
    s.duration_s = doc.at("duration_s").get<double>();
    s.audio_samples = doc.at("audio_samples").get<std::int64_t>();
    for (const auto& c : doc.at("cues")) {
      s.cues.push_back({c.at("start_s").get<double>(), c.at("end_s").get<double>(),
                        c.at("speaker").get<std::string>(), c.at("text").get<std::string>()});
    }
    s.warnings = doc.value("warnings", std::vector<std::string>{});
    return s;
  } catch (const std::exception& e) {
    return error(farm_errc::invalid_argument, std::string("bad segment sidecar: ") + e.what());
  }
}

animatic_backend::animatic_backend(std::filesystem::path media_dir)
    : media_dir_(std::move(media_dir)) {}

result<void> animatic_backend::prepare(const render_job& job) {
  auto spec = parse_lease_spec(job.offer.spec);
  if (!spec) {
    return spec.error();
  }
  return ensure_directory((media_dir_ / spec->output).parent_path(), 0755);
}

result<render_output> animatic_backend::run(const render_job& job, const progress_fn& progress,
                                            const std::atomic<bool>& cancel) {
  auto spec = parse_lease_spec(job.offer.spec);
  if (!spec) {
    return spec.error();
  }
  progress(0, "loading fonts");
  auto renderer = media::shot_renderer::create({});
  if (!renderer) {
    return error(farm_errc::backend, renderer.error().message());
  }
  if (cancel) {
    return error(farm_errc::backend, "cancelled");
  }
  progress(5, "rendering");
  auto file = media_dir_ / spec->output;
  auto segment = renderer->render(spec->shot, file);
  if (!segment) {
    bool bad_input = segment.error().is(media_errc::invalid_spec);
    return error(bad_input ? farm_errc::invalid_argument : farm_errc::backend,
                 segment.error().message());
  }
  progress(95, "checksum");
  auto sidecar = file;
  sidecar += ".json";
  if (auto w = write_file(sidecar, segment_to_json(*segment)); !w) {
    return w.error();
  }
  auto sum = media::sha256_file(file);
  if (!sum) {
    return error(farm_errc::backend, sum.error().message());
  }
  progress(100, "done");
  return render_output{spec->output.string(), "sha256:" + *sum,
                       static_cast<std::int64_t>(segment->duration_s * 1000.0 + 0.5)};
}

}  // namespace reelfarm::farm
