// The animatic backend: a lease's spec is a media shot_spec plus where the
// segment goes in the shared media folder. Rendering happens in-process with
// media::shot_renderer. A renderer is not thread-safe, so each running lease
// takes one from a small pool and gives it back when done: loading the fonts
// once per node instead of once per shot.
#include "reelfarm/farm/node/animatic_backend.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
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

std::atomic<int> process_threads{0};

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

// CPU time of this process and its reaped children (espeak-ng), in ms.
double cpu_ms() {
  double total = 0;
  for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
    rusage u{};
    if (getrusage(who, &u) == 0) {
      total += static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000.0 +
               static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000.0;
    }
  }
  return total;
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

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

void set_default_animatic_threads(int threads) {
  process_threads = std::max(0, threads);
}

int default_animatic_threads() {
  return process_threads.load();
}

std::string segment_to_json(const media::segment_info& s, const segment_timing* timing) {
  json cues = json::array();
  for (const auto& c : s.cues) {
    cues.push_back(
        {{"start_s", c.start_s}, {"end_s", c.end_s}, {"speaker", c.speaker}, {"text", c.text}});
  }
  json doc{{"shot", s.shot_id},
           {"frames", s.frames},
           {"fps", s.fps},
           {"duration_s", s.duration_s},
           {"audio_samples", s.audio_samples},
           {"cues", cues},
           {"warnings", s.warnings}};
  if (timing != nullptr) {
    doc["timing"] = {{"render_ms", timing->render_ms},
                     {"cpu_ms", timing->cpu_ms},
                     {"lease_ms", timing->lease_ms},
                     {"started_at_ms", timing->started_at_ms},
                     {"finished_at_ms", timing->finished_at_ms},
                     {"encoder_threads", timing->encoder_threads},
                     {"node_pid", timing->node_pid}};
  }
  return doc.dump();
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

animatic_backend::animatic_backend(std::filesystem::path media_dir, int encoder_threads)
    : media_dir_(std::move(media_dir)), encoder_threads_(encoder_threads) {}

animatic_backend::~animatic_backend() = default;

result<std::unique_ptr<media::shot_renderer>> animatic_backend::take_renderer() {
  {
    std::lock_guard lock(idle_mutex_);
    if (!idle_.empty()) {
      auto r = std::move(idle_.back());
      idle_.pop_back();
      return r;
    }
  }
  media::render_options options;
  int threads = encoder_threads_ > 0 ? encoder_threads_ : default_animatic_threads();
  if (threads > 0) {
    options.encoding.threads = threads;
  }
  auto renderer = media::shot_renderer::create(std::move(options));
  if (!renderer) {
    return error(farm_errc::backend, renderer.error().message());
  }
  return std::make_unique<media::shot_renderer>(std::move(renderer).value());
}

void animatic_backend::give_back(std::unique_ptr<media::shot_renderer> renderer) {
  std::lock_guard lock(idle_mutex_);
  idle_.push_back(std::move(renderer));
}

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
  auto lease_start = std::chrono::steady_clock::now();
  progress(0, "loading fonts");
  auto renderer = take_renderer();
  if (!renderer) {
    return renderer.error();
  }
  if (cancel) {
    give_back(std::move(renderer).value());
    return error(farm_errc::backend, "cancelled");
  }
  progress(5, "rendering");
  auto file = media_dir_ / spec->output;
  segment_timing timing;
  timing.started_at_ms = unix_ms();
  auto render_start = std::chrono::steady_clock::now();
  auto cpu_start = cpu_ms();
  auto segment = (*renderer)->render(spec->shot, file);
  timing.render_ms = ms_since(render_start);
  timing.cpu_ms = cpu_ms() - cpu_start;
  timing.finished_at_ms = unix_ms();
  give_back(std::move(renderer).value());
  if (!segment) {
    bool bad_input = segment.error().is(media_errc::invalid_spec);
    return error(bad_input ? farm_errc::invalid_argument : farm_errc::backend,
                 segment.error().message());
  }
  progress(95, "checksum");
  auto sum = media::sha256_file(file);
  if (!sum) {
    return error(farm_errc::backend, sum.error().message());
  }
  int threads = encoder_threads_ > 0 ? encoder_threads_ : default_animatic_threads();
  timing.encoder_threads = threads > 0 ? threads : media::encode_settings{}.threads;
  timing.node_pid = static_cast<long>(::getpid());
  timing.lease_ms = ms_since(lease_start);  // all but writing the sidecar itself
  auto sidecar = file;
  sidecar += ".json";
  if (auto w = write_file(sidecar, segment_to_json(*segment, &timing)); !w) {
    return w.error();
  }
  progress(100, "done");
  return render_output{spec->output.string(), "sha256:" + *sum,
                       static_cast<std::int64_t>(segment->duration_s * 1000.0 + 0.5)};
}

}  // namespace reelfarm::farm
