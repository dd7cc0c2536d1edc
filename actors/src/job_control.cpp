#include "reelfarm/actors/job_control.hpp"

#include <nlohmann/json.hpp>

#include "reelfarm/actors/errc.hpp"
#include "reelfarm/actors/media_layout.hpp"
#include "reelfarm/actors/reference_store.hpp"
#include "reelfarm/actors/shot_plan.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/node/animatic_backend.hpp"
#include "reelfarm/media/film_renderer.hpp"
#include "reelfarm/screenplay/cost.hpp"
#include "reelfarm/screenplay/fountain.hpp"

namespace reelfarm::actors {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Marks `shot` reused when a finished shot with the same inputs exists and
// its segment and sidecar are still on disk.
result<void> try_reuse(const job_context& ctx, const std::string& project_id, shot_record& shot) {
  auto found = ctx.jobs->find_reusable(project_id, shot.input_hash);
  if (!found) {
    return found.error();
  }
  if (!*found || (*found)->artifact.empty() || !fs::exists(ctx.media_dir / (*found)->artifact)) {
    return ok();
  }
  const auto& prior = **found;
  shot.status = "reused";
  shot.progress = 100;
  shot.current_step = "reused";
  shot.artifact = prior.artifact;
  shot.checksum = prior.checksum;
  shot.segment_json = prior.segment_json;
  shot.reused_from = prior.reused_from;
  return ok();
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
    auto file = ctx.media_dir / s.artifact;
    auto segment = farm::segment_from_json(s.segment_json, file);
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
  for (const auto& c : plan->characters) {
    if (!c.image.empty() && !settings->character_images.contains(c.name)) {
      settings->character_images[c.name] = {c.image, ""};
    }
  }
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
  for (auto& shot : out.shots) {
    if (auto reused = try_reuse(ctx, job.project_id, shot); !reused) {
      return reused.error();
    }
  }
  out.references = plan_references(*plan);
  for (auto& r : out.references) {
    if (auto image = settings->character_images.find(r.name);
        r.kind == "character" && image != settings->character_images.end()) {
      r.image = image->second.path;
    }
  }
  out.cost_credits = render_cost(out.shots);
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

}  // namespace reelfarm::actors
