#include "reelfarm/actors/job_control.hpp"

#include <nlohmann/json.hpp>

#include "reelfarm/actors/errc.hpp"
#include "reelfarm/actors/media_layout.hpp"
#include "reelfarm/actors/reference_store.hpp"
#include "reelfarm/actors/shot_plan.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/node/animatic_backend.hpp"
#include "reelfarm/media/checksum.hpp"
#include "reelfarm/media/film_renderer.hpp"
#include "reelfarm/screenplay/cost.hpp"
#include "reelfarm/screenplay/fountain.hpp"

namespace reelfarm::actors {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// A path or checksum a node sent (up to 4 KiB), quoted and cut short for
// messages and logs.
std::string quoted(const std::string& text) {
  constexpr std::size_t max = 160;
  return "\"" + (text.size() > max ? text.substr(0, max) + "..." : text) + "\"";
}

// The type of `file` itself (a link is not followed); not_found when absent.
fs::file_type type_of(const fs::path& file) {
  std::error_code ec;
  return fs::symlink_status(file, ec).type();
}

// Reuses the segment of a finished shot with the same inputs when its file
// is still on disk (see prepare_job). Returns true when the shot reuses a
// segment nobody kept paying for, so that this job must pay for it.
result<bool> try_reuse(const job_context& ctx, const std::string& project_id, shot_record& shot) {
  auto found = ctx.jobs->find_reusable(project_id, shot.input_hash);
  if (!found) {
    return found.error();
  }
  if (!*found || (*found)->shot.artifact.empty()) {
    return false;
  }
  const auto& prior = (*found)->shot;
  auto file = media_file(ctx.media_dir, prior.artifact);
  if (!file || type_of(*file) != fs::file_type::regular) {
    return false;  // gone, or a stored path we no longer trust: render it again
  }
  bool paid = (*found)->paid;
  // Unpaid, this job delivers the shot and is charged for it: "done", like a
  // render, and so the shot that the next job reuses for free.
  shot.status = paid ? "reused" : "done";
  shot.progress = 100;
  shot.current_step = paid ? "reused" : "reused, charged (its first render was refunded)";
  shot.artifact = prior.artifact;
  shot.checksum = prior.checksum;
  shot.segment_json = prior.segment_json;
  shot.reused_from = prior.reused_from;
  return !paid;
}

result<void> copy_into(const fs::path& from, const fs::path& dir) {
  if (auto made = ensure_directory(dir, 0755); !made) {
    return made.error();
  }
  std::error_code ec;
  fs::copy_file(from, dir / from.filename(), fs::copy_options::overwrite_existing, ec);
  if (ec) {
    return error(actors_errc::assembly, "cannot copy " + from.string() + ": " + ec.message());
  }
  return ok();
}

result<std::vector<media::scene_segments>> scenes_of(const job_context& ctx,
                                                     const std::vector<shot_record>& shots) {
  std::vector<media::scene_segments> scenes;
  for (const auto& s : shots) {
    if (!s.has_segment()) {
      return error(actors_errc::assembly, "shot " + s.shot_id + " has no segment");
    }
    // Checked again here, not only when the node reported it: a row may
    // predate the check or have been written by other means.
    auto file = media_file(ctx.media_dir, s.artifact);
    if (!file) {
      return error(actors_errc::assembly, "shot " + s.shot_id + ": " + file.error().message());
    }
    auto segment = farm::segment_from_json(s.segment_json, *file);
    if (!segment) {
      return error(actors_errc::assembly, "shot " + s.shot_id + ": " + segment.error().message());
    }
    if (scenes.empty() || scenes.back().id != s.scene_id) {
      scenes.push_back({s.scene_id, {}});
    }
    scenes.back().shots.push_back(std::move(segment).value());
  }
  return scenes;
}

}  // namespace

result<prepared_job> prepare_job(const job_context& ctx, const job_record& job) {
  auto settings = parse_render_settings(job.settings_json);
  if (!settings) {
    return settings.error();
  }
  auto user_plan = ctx.plans.get(job.user_plan);
  if (!user_plan) {
    return user_plan.error();
  }
  settings->watermark = settings->watermark || user_plan->watermark;
  auto doc = screenplay::parse_fountain(job.script);
  if (!doc) {
    return doc.error();
  }
  auto plan = screenplay::plan_screenplay(std::move(doc).value(), ctx.planner,
                                          casting_seed(*settings, job.project_id));
  if (!plan) {
    return plan.error();
  }
  if (user_plan->max_video.count() > 0) {
    if (auto fits = screenplay::check_max_length(plan->duration, user_plan->max_video); !fits) {
      return error(actors_errc::plan_limit,
                   fits.error().message() + " (plan " + user_plan->display_name + ")");
    }
  }
  // Characters' reference images (settings first, then the plan's), stored
  // once by content so every shot of a character passes the same image.
  add_screenplay_images(*settings, *plan);
  for (auto& [name, image] : settings->character_images) {
    auto stored = store_reference_image(ctx.media_dir, job.user_id, image.path);
    if (!stored) {
      return stored.error();
    }
    image = *stored;
  }
  prepared_job out;
  out.job = job;
  out.duration = plan->duration;
  out.shots =
      plan_shots(*plan, *settings, media_layout(ctx.media_dir, job.user_id, job.project_id));
  // Priced by render_cost, which charges the shots without a segment: a
  // reused segment this job pays for counts as one to render.
  auto priced = out.shots;
  for (std::size_t i = 0; i < out.shots.size(); ++i) {
    auto charged = try_reuse(ctx, job.project_id, out.shots[i]);
    if (!charged) {
      return charged.error();
    }
    priced[i].status = *charged ? "queued" : out.shots[i].status;
  }
  out.references = plan_references(*plan);
  for (auto& r : out.references) {
    if (auto image = settings->character_images.find(r.name);
        r.kind == "character" && image != settings->character_images.end()) {
      r.image = image->second.path;
    }
  }
  out.price = price_render(priced, ctx.prices);
  out.cost_credits = out.price.total();
  return out;
}

result<job_record> start_job(const job_context& ctx, const prepared_job& p) {
  auto description =
      "render of \"" + p.job.title + "\" (" + screenplay::format_minutes_seconds(p.duration) + ")";
  return ctx.jobs->start(p.job.id, p.shots, p.references, p.cost_credits, description);
}

result<job_record> regenerate(const job_context& ctx, const std::string& user_id,
                              const std::string& project_id, const std::string& settings_json) {
  return ctx.jobs->create(user_id, project_id, "regenerate", settings_json);
}

result<cancel_outcome> cancel_job(const job_context& ctx, const std::string& job_id) {
  return ctx.jobs->cancel(job_id);
}

result<film_record> assemble_job_film(const job_context& ctx, const job_record& job,
                                      const std::vector<shot_record>& shots) {
  media_layout layout(ctx.media_dir, job.user_id, job.project_id);
  auto scenes = scenes_of(ctx, shots);
  if (!scenes) {
    return scenes.error();
  }
  auto final_dir = layout.absolute(layout.final_rel());
  auto film = media::assemble_film(job.title, *scenes, final_dir);
  if (!film) {
    return error(actors_errc::assembly, film.error().message());
  }
  for (const auto& [file, rel] :
       {std::pair{film->srt, layout.subtitles_rel()}, std::pair{film->vtt, layout.subtitles_rel()},
        std::pair{film->thumbnail, layout.thumbnails_rel()}}) {
    if (auto copied = copy_into(file, layout.absolute(rel)); !copied) {
      return copied.error();
    }
  }
  film_record out;
  out.video_url = (layout.final_rel() / "film.mp4").string();
  out.thumbnail_url = (layout.thumbnails_rel() / film->thumbnail.filename()).string();
  out.subtitle_urls_json = json{{"srt", (layout.subtitles_rel() / film->srt.filename()).string()},
                                {"vtt", (layout.subtitles_rel() / film->vtt.filename()).string()}}
                               .dump();
  out.duration_s = film->duration_s;
  out.result_json = json{
      {"video", out.video_url},
      {"thumbnail", out.thumbnail_url},
      {"subtitles", json::parse(out.subtitle_urls_json)},
      {"manifest", (layout.final_rel() / "manifest.json").string()},
      {"duration_s", film->duration_s},
      {"sha256", film->sha256},
      {"shots", shots.size()},
      {"warnings",
       film->warnings}}.dump();
  return out;
}

result<fs::path> media_file(const fs::path& media_dir, const std::string& rel) {
  fs::path path(rel);
  if (rel.empty() || path.has_root_name() || path.has_root_directory()) {
    return error(actors_errc::shot_failed,
                 "path " + quoted(rel) + " is not relative to the media folder");
  }
  fs::path at = media_dir;
  bool exists = true;
  for (const auto& part : path) {
    if (part.empty() || part == "." || part == "..") {
      return error(actors_errc::shot_failed, "path " + quoted(rel) + " has an empty, . or .. part");
    }
    at /= part;
    // Below a missing folder nothing exists to be a link.
    auto type = exists ? type_of(at) : fs::file_type::not_found;
    exists = type != fs::file_type::not_found;
    if (type == fs::file_type::symlink) {
      return error(actors_errc::shot_failed,
                   "path " + quoted(rel) + " passes through a symbolic link");
    }
  }
  return at;
}

std::string lease_output(const std::string& lease_spec_json) {
  auto doc = json::parse(lease_spec_json, nullptr, false);
  if (!doc.is_object() || !doc.contains("output") || !doc["output"].is_string()) {
    return {};
  }
  return doc["output"].get<std::string>();
}

result<void> check_artifact(const media_layout& layout, const std::string& offered_output,
                            const std::string& reported_artifact,
                            const std::string& reported_checksum) {
  // Exactly the offered path: anything else is either a broken node or one
  // pointing the coordinator at a file it should never read or serve.
  if (offered_output.empty() || reported_artifact != offered_output) {
    return error(actors_errc::shot_failed, "artifact " + quoted(reported_artifact) +
                                               " is not the output the lease offered (" +
                                               quoted(offered_output) + ")");
  }
  // The offer comes from a stored row: checked too, against this job's folder.
  if (fs::path(offered_output).parent_path() != layout.clips_rel()) {
    return error(actors_errc::shot_failed, "the offered output " + quoted(offered_output) +
                                               " is not in the job's video-clips folder");
  }
  auto file = media_file(layout.media_dir(), offered_output);
  if (!file) {
    return file.error();
  }
  auto type = type_of(*file);
  if (type != fs::file_type::regular) {
    return error(
        actors_errc::shot_failed,
        "artifact " + quoted(reported_artifact) +
            (type == fs::file_type::not_found ? " does not exist" : " is not a regular file"));
  }
  auto sum = media::sha256_file(*file);
  if (!sum) {
    return error(actors_errc::shot_failed, "artifact " + quoted(reported_artifact) +
                                               " cannot be read: " + sum.error().message());
  }
  if (reported_checksum != "sha256:" + *sum) {
    return error(actors_errc::shot_failed,
                 "checksum " + quoted(reported_checksum) + " does not match artifact " +
                     quoted(reported_artifact) + " (sha256:" + *sum + ")");
  }
  return ok();
}

result<std::string> read_segment_sidecar(const fs::path& media_dir, const std::string& artifact) {
  // Far above any real sidecar (a few KiB of timing and cues); the text is
  // kept in memory and in PostgreSQL.
  constexpr std::uintmax_t max_bytes = 1U << 20U;
  auto file = media_file(media_dir, artifact + ".json");
  if (!file) {
    return file.error();
  }
  if (type_of(*file) != fs::file_type::regular) {
    return error(actors_errc::shot_failed, "no segment sidecar " + quoted(artifact + ".json"));
  }
  std::error_code ec;
  auto size = fs::file_size(*file, ec);
  if (ec || size > max_bytes) {
    return error(actors_errc::shot_failed,
                 "segment sidecar " + quoted(artifact + ".json") + " is unreadable or too large");
  }
  auto text = read_file(*file);
  if (!text) {
    return error(actors_errc::shot_failed, text.error().message());
  }
  // The parser's message may quote the text, and what a node wrote is not
  // logged: only that it is no sidecar.
  if (auto segment = farm::segment_from_json(*text, media_dir / artifact); !segment) {
    return error(actors_errc::shot_failed,
                 "segment sidecar " + quoted(artifact + ".json") + " is not a valid sidecar");
  }
  return text;
}

}  // namespace reelfarm::actors
