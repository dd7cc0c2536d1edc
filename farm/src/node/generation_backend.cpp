// submit → poll → fetch → encode, shared by the HTTP backends. The loop owns
// the deadline and cancellation so each provider only maps its own wire format.
#include "reelfarm/farm/node/generation_backend.hpp"

#include <sodium.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "provider_http.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/node/animatic_backend.hpp"
#include "reelfarm/farm/node/exec_backend.hpp"
#include "reelfarm/media/checksum.hpp"
#include "reelfarm/media/errc.hpp"
#include "reelfarm/media/frame_source.hpp"
#include "reelfarm/media/shot_renderer.hpp"
#include "reelfarm/media/spec_json.hpp"

namespace reelfarm::farm {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int max_failed_polls = 8;

struct reference_image {
  std::string name;
  std::filesystem::path image;  ///< relative to the media folder
  std::string sha256;           ///< hex; empty: not checked
};

struct generation_spec {
  media::shot_spec shot;
  std::string shot_json;
  std::filesystem::path output;
  std::string prompt;
  std::vector<reference_image> references;
};

bool safe_relative(const std::filesystem::path& p) {
  if (p.empty() || p.is_absolute()) {
    return false;
  }
  for (const auto& part : p) {
    if (part == "..") {
      return false;
    }
  }
  return true;
}

bool is_hex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

result<generation_spec> parse_spec(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("shot") ||
      !doc["output"].is_string()) {
    return error(farm_errc::invalid_argument,
                 "a generation spec is {\"shot\": {...}, \"output\": \"path.mp4\", ...}");
  }
  generation_spec s;
  s.shot_json = doc["shot"].dump();
  auto shot = media::parse_shot_spec(s.shot_json);
  if (!shot) {
    return error(farm_errc::invalid_argument, "invalid shot: " + shot.error().message());
  }
  s.shot = std::move(shot).value();
  s.output = doc["output"].get<std::string>();
  if (!safe_relative(s.output) || s.output.extension() != ".mp4") {
    return error(farm_errc::invalid_argument,
                 "output must be a relative .mp4 path inside the media folder");
  }
  s.prompt = doc.value("prompt", std::string());
  if (s.prompt.empty()) {
    s.prompt = generation_backend::prompt_of(s.shot_json);
  }
  if (doc.contains("references")) {
    if (!doc["references"].is_array() || doc["references"].size() > 16) {
      return error(farm_errc::invalid_argument, "references must be an array of up to 16");
    }
    for (const auto& r : doc["references"]) {
      if (!r.is_object() || !r.value("image", json()).is_string()) {
        return error(farm_errc::invalid_argument, "a reference is {\"name\",\"image\",\"sha256\"}");
      }
      reference_image ref{r.value("name", ""), r["image"].get<std::string>(),
                          r.value("sha256", "")};
      if (!safe_relative(ref.image) || (!ref.sha256.empty() && !is_hex64(ref.sha256))) {
        return error(farm_errc::invalid_argument,
                     "reference image must be a relative path in the media folder with a hex "
                     "sha256: " +
                         ref.image.string());
      }
      s.references.push_back(std::move(ref));
    }
  }
  return s;
}

std::string sha256_hex(const std::filesystem::path& file) {
  auto sum = sha256_file(file.string());
  return sum ? sum->substr(7) : std::string();
}

// The node-local copy of a reference image: CACHE/<sha256>.<ext>, copied once
// from the shared media folder and checked against its hash, so every shot of
// a character on this node reads the same bytes without touching the share.
result<std::filesystem::path> cached_reference(const provider_settings& s,
                                               const reference_image& ref) {
  auto source = s.media_dir / ref.image;
  std::string hex = ref.sha256;
  if (hex.empty()) {
    hex = sha256_hex(source);
    if (hex.empty()) {
      return error(farm_errc::backend, "cannot read reference image " + ref.image.string());
    }
  }
  auto cached = s.cache_dir / (hex + ref.image.extension().string());
  std::error_code ec;
  if (std::filesystem::exists(cached, ec)) {
    return cached;
  }
  if (auto made = ensure_directory(s.cache_dir, 0755); !made) {
    return made.error();
  }
  auto part = cached;
  part += ".part" + std::to_string(::getpid()) + "-" +
          std::to_string(std::hash<std::thread::id>{}(std::this_thread::get_id()));
  std::filesystem::copy_file(source, part, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) {
    return error(farm_errc::backend,
                 "cannot copy reference image " + source.string() + ": " + ec.message());
  }
  if (sha256_hex(part) != hex) {
    std::filesystem::remove(part, ec);
    return error(farm_errc::backend,
                 "reference image " + ref.image.string() + " does not match its sha256 " + hex);
  }
  std::filesystem::rename(part, cached, ec);
  if (ec) {
    return error(farm_errc::backend, "cannot cache reference image: " + ec.message());
  }
  return cached;
}

// Encodes what came back into the segment format, with the shot's timing,
// dialogue audio and cues, and writes the sidecar the film assembly reads.
result<render_output> encode_segment(const provider_settings& settings, const generation_spec& spec,
                                     const std::vector<std::filesystem::path>& files,
                                     std::int64_t took_ms) {
  auto renderer = media::shot_renderer::create({});
  if (!renderer) {
    return error(farm_errc::backend, renderer.error().message());
  }
  // Pictures cover the planned length; speech that lengthens the shot holds
  // the last one (frame_source clamps the index).
  auto planned = std::max<std::int64_t>(
      1, static_cast<std::int64_t>(spec.shot.duration_s * spec.shot.fps + 0.999));
  auto frames =
      media::frame_source::open(files, spec.shot.width, spec.shot.height, spec.shot.fps, planned);
  if (!frames) {
    return error(farm_errc::backend,
                 "the provider's output cannot be decoded: " + frames.error().message());
  }
  media::shot_renderer::frame_fill fill = [&](int f) -> result<const std::uint8_t*> {
    auto picture = frames->frame(f);
    if (!picture) {
      return picture.error();
    }
    return (*picture)->data();
  };
  auto file = settings.media_dir / spec.output;
  if (auto made = ensure_directory(file.parent_path(), 0755); !made) {
    return made.error();
  }
  auto segment = renderer->render_frames(spec.shot, fill, file);
  if (!segment) {
    bool bad_input = segment.error().is(media_errc::invalid_spec);
    return error(bad_input ? farm_errc::invalid_argument : farm_errc::backend,
                 segment.error().message());
  }
  auto sidecar = file;
  sidecar += ".json";
  if (auto w = write_file_atomically(sidecar, segment_to_json(*segment), 0644); !w) {
    return w.error();
  }
  auto sum = media::sha256_file(file);
  if (!sum) {
    return error(farm_errc::backend, sum.error().message());
  }
  render_output out{spec.output.string(), "sha256:" + *sum,
                    static_cast<std::int64_t>(segment->duration_s * 1000.0 + 0.5)};
  out.took_ms = took_ms;
  return out;
}

}  // namespace

generation_backend::generation_backend(provider_settings settings)
    : settings_(std::move(settings)) {
  if (settings_.name.empty()) {
    settings_.name = settings_.kind;
  }
}

std::string generation_backend::prompt_of(const std::string& shot_json) {
  json shot = json::parse(shot_json, nullptr, false);
  if (!shot.is_object()) {
    return {};
  }
  std::string kind = shot.value("kind", "action");
  std::string p = "A cinematic " + kind + " shot";
  if (auto heading = shot.value("heading", ""); !heading.empty()) {
    p += ". " + heading;
  } else if (shot.contains("location") && shot["location"].is_object()) {
    p += ". " + shot["location"].value("name", "");
  }
  if (auto action = shot.value("action", ""); !action.empty()) {
    p += ". " + action;
  }
  if (shot.contains("characters") && shot["characters"].is_array() && !shot["characters"].empty()) {
    p += ". Characters:";
    for (const auto& c : shot["characters"]) {
      p += " " + c.value("name", "");
    }
  }
  if (shot.contains("dialogue") && shot["dialogue"].is_array()) {
    for (const auto& d : shot["dialogue"]) {
      p += ". " + d.value("character", "") + " says: \"" + d.value("text", "") + "\"";
    }
  }
  return p.substr(0, 4000);
}

std::chrono::milliseconds generation_backend::poll_delay(int) const {
  return settings_.poll;
}

std::chrono::milliseconds generation_backend::scaled(std::chrono::milliseconds d) const {
  return std::chrono::milliseconds(static_cast<std::int64_t>(d.count() * settings_.delay_scale));
}

bool generation_backend::pause(std::chrono::milliseconds d, const std::atomic<bool>& cancel) const {
  auto until = std::chrono::steady_clock::now() + scaled(d);
  while (std::chrono::steady_clock::now() < until) {
    if (cancel) {
      return false;
    }
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        20ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                  until - std::chrono::steady_clock::now() + 1ms)));
  }
  return !cancel;
}

result<void> generation_backend::download_with_retries(provider_http& http, const std::string& url,
                                                       const std::filesystem::path& file) const {
  // Output files can be 100s of MB of video: bounded, but generously.
  constexpr std::size_t max_output = 2ull << 30;
  bool own_host = url.starts_with(settings_.url + "/");
  std::string why;
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(scaled(std::chrono::milliseconds(1000 << (attempt - 1))));
    }
    auto got = http.download(url, file, max_output, own_host);
    if (got && *got == 200) {
      return ok();
    }
    why = got ? "HTTP " + std::to_string(*got) : got.error().message();
    if (got && *got != 429 && *got < 500) {
      break;  // 403/404: a signed URL expired or the file is gone; retrying cannot help
    }
    log::warn(settings_.name, "download failed",
              {{"url", loggable_url(url)}, {"attempt", attempt + 1}, {"error", why}});
  }
  return error(farm_errc::backend,
               "cannot download " + loggable_url(url) + " from " + settings_.name + ": " + why);
}

result<void> generation_backend::prepare(const render_job& job) {
  auto spec = parse_spec(job.offer.spec);
  if (!spec) {
    return spec.error();
  }
  for (const auto& ref : spec->references) {
    if (auto cached = cached_reference(settings_, ref); !cached) {
      return cached.error();
    }
  }
  return ensure_directory((settings_.media_dir / spec->output).parent_path(), 0755);
}

result<render_output> generation_backend::run(const render_job& job, const progress_fn& progress,
                                              const std::atomic<bool>& cancel) {
  auto started = std::chrono::steady_clock::now();
  auto spec = parse_spec(job.offer.spec);
  if (!spec) {
    return spec.error();
  }
  generation_request request;
  request.shot_id = spec->shot.id;
  request.prompt = spec->prompt;
  // The first character's seed: a character keeps its look across shots.
  request.seed = !spec->shot.characters.empty() ? spec->shot.characters.front().seed
                                                : spec->shot.location.seed;
  request.width = spec->shot.width;
  request.height = spec->shot.height;
  request.fps = spec->shot.fps;
  request.duration_s = spec->shot.duration_s;
  request.frames = static_cast<std::int64_t>(spec->shot.duration_s * spec->shot.fps + 0.999);
  if (!spec->references.empty()) {
    auto cached = cached_reference(settings_, spec->references.front());
    if (!cached) {
      return cached.error();
    }
    request.reference_image = *cached;
    request.reference_sha256 = cached->stem().string();
  }
  provider_http http(settings_.name, settings_.api_key);
  progress(1, "submitting to " + settings_.name);
  auto id = submit(http, request, job);
  if (!id) {
    return id.error();
  }
  log::info(settings_.name, "provider job submitted",
            {{"shot", request.shot_id}, {"lease", job.offer.lease}, {"provider_job", *id}});
  auto deadline = started + settings_.deadline;
  generation_status status;
  int failed_polls = 0;
  auto cancelled = [&] {
    this->cancel(http, *id);
    log::info(settings_.name, "provider job cancelled", {{"provider_job", *id}});
    return error(farm_errc::timeout, "cancelled");
  };
  for (int attempt = 0;; ++attempt) {
    if (!pause(poll_delay(attempt), cancel)) {
      return cancelled();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      this->cancel(http, *id);
      return error(farm_errc::timeout, settings_.name + " job " + *id + " of shot " +
                                           request.shot_id + " passed its deadline of " +
                                           std::to_string(settings_.deadline.count()) + " s");
    }
    auto polled = poll(http, *id);
    if (cancel) {
      return cancelled();
    }
    if (!polled) {
      // A failed poll (a 5xx, a dropped connection) is retried a few times;
      // a provider that stays away loses the shot to another node.
      log::warn(settings_.name, "poll failed",
                {{"provider_job", *id}, {"error", polled.error().message()}});
      if (++failed_polls >= max_failed_polls) {
        this->cancel(http, *id);
        return error(farm_errc::backend, settings_.name + " stopped answering about job " + *id +
                                             ": " + polled.error().message());
      }
      continue;
    }
    failed_polls = 0;
    status = *polled;
    using st = generation_status::state;
    if (status.status == st::queued || status.status == st::running) {
      int pct = status.percent >= 0 ? 2 + status.percent * 78 / 100 : 2;
      progress(pct, status.status == st::queued ? "queued at " + settings_.name
                                                : "generating on " + settings_.name);
      continue;
    }
    if (status.status == st::succeeded) {
      break;
    }
    auto what = status.status == st::cancelled ? "was cancelled by the provider" : "failed";
    return error(status.retryable ? farm_errc::backend : farm_errc::invalid_argument,
                 settings_.name + " job " + *id + " " + what +
                     (status.message.empty() ? "" : ": " + status.message));
  }
  progress(80, "downloading from " + settings_.name);
  auto dir = job.work_dir / "outputs";
  if (auto made = ensure_directory(dir, 0755); !made) {
    return made.error();
  }
  auto files = fetch(http, status, dir);
  if (!files) {
    return files.error();
  }
  if (files->empty()) {
    return error(farm_errc::backend, settings_.name + " job " + *id + " returned no output");
  }
  if (cancel) {
    return error(farm_errc::timeout, "cancelled");
  }
  progress(88, "encoding");
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
  auto out = encode_segment(settings_, *spec, *files, took);
  if (!out) {
    return out.error();
  }
  out->provider_job = *id;
  out->billed_s = status.billed_s;
  log::info(settings_.name, "shot generated",
            {{"shot", request.shot_id},
             {"provider_job", *id},
             {"took_ms", took},
             {"billed_s", status.billed_s}});
  progress(100, "done");
  return out;
}

}  // namespace reelfarm::farm
