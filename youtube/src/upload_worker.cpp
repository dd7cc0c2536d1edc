#include "reelfarm/youtube/upload_worker.hpp"

#include <unistd.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "reelfarm/common/log.hpp"
#include "reelfarm/store/errc.hpp"
#include "reelfarm/youtube/access_token_cache.hpp"
#include "reelfarm/youtube/errc.hpp"
#include "reelfarm/youtube/oauth_client.hpp"
#include "reelfarm/youtube/resumable_uploader.hpp"
#include "reelfarm/youtube/youtube_api.hpp"

namespace reelfarm::youtube {

namespace {

constexpr std::string_view component = "youtube.worker";

std::string default_worker_id() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid());
}

// `relative` inside `root`, or nullopt when it would leave it: the paths
// come from the project row, but the media folder is shared.
std::optional<std::filesystem::path> inside(const std::filesystem::path& root,
                                            const std::string& relative) {
  std::filesystem::path rel(relative);
  if (relative.empty() || rel.is_absolute()) {
    return std::nullopt;
  }
  for (const auto& part : rel) {
    if (part == "..") {
      return std::nullopt;
    }
  }
  return root / rel;
}

bool transient(const error& e) {
  if (e.category() == category_of(youtube_errc{})) {
    return is_transient(static_cast<youtube_errc>(e.code()));
  }
  return e.is(store_errc::connection);  // the pool could not reach PostgreSQL
}

}  // namespace

result<std::unique_ptr<upload_worker>> upload_worker::create(upload_worker_options options) {
  if (auto valid = options.youtube.validate(); !valid) {
    return std::move(valid).error();
  }
  auto cipher = token_cipher::create(options.youtube.token_key);
  if (!cipher) {
    return std::move(cipher).error();
  }
  if (options.worker_id.empty()) {
    options.worker_id = default_worker_id();
  }
  return std::unique_ptr<upload_worker>(new upload_worker(std::move(options), *cipher));
}

upload_worker::upload_worker(upload_worker_options options, token_cipher cipher)
    : options_(std::move(options)),
      cipher_(cipher),
      pool_(options_.postgres_dsn, 2),
      uploads_(pool_),
      channels_(pool_),
      quota_(pool_, options_.youtube.daily_uploads, options_.youtube.daily_units) {}

upload_worker::~upload_worker() {
  stop();
}

void upload_worker::start() {
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void upload_worker::stop() {
  stopping_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

void upload_worker::loop() {
  bool failing = false;
  while (!stopping_) {
    auto ran = run_once();
    if (!ran && !failing) {
      log::warn(component, "cannot read the upload queue; retrying",
                {{"error", ran.error().message()}});
    }
    failing = !ran;
    if (!ran || !*ran) {
      const auto until = std::chrono::steady_clock::now() + options_.poll_interval;
      while (!stopping_ && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
    }
  }
}

result<bool> upload_worker::run_once() {
  auto claimed = uploads_.claim(options_.worker_id, options_.lease);
  if (!claimed) {
    return std::move(claimed).error();
  }
  if (!*claimed) {
    return false;
  }
  process(std::move(**claimed));
  return true;
}

void upload_worker::publish(const upload_record& u) {
  if (options_.redis_url.empty()) {
    return;
  }
  if (!redis_) {
    if (std::chrono::steady_clock::now() < redis_retry_at_) {
      return;
    }
    auto connected = redis_client::connect(options_.redis_url, std::chrono::seconds(2));
    if (!connected) {
      redis_retry_at_ = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      return;
    }
    redis_.emplace(std::move(*connected));
  }
  nlohmann::json data = {{"upload", u.id},
                         {"project", u.project_id},
                         {"status", u.status},
                         {"bytes_sent", u.bytes_sent},
                         {"total_bytes", u.total_bytes}};
  if (u.video_id) {
    data["video_id"] = *u.video_id;
  }
  if (u.youtube_url) {
    data["url"] = *u.youtube_url;
  }
  if (u.error && u.status == "failed") {
    data["error"] = *u.error;
  }
  const auto key = "project:events:" + u.project_id;
  auto added = redis_->command(
      {"XADD", key, "MAXLEN", "~", "1000", "*", "type", "youtube", "data", data.dump()});
  if (added) {
    (void)redis_->command({"EXPIRE", key, "604800"});
  } else {
    log::warn(component, "cannot publish upload progress; continuing without Redis",
              {{"upload", u.id}, {"error", added.error().message()}});
    redis_.reset();
  }
}

void upload_worker::settle(upload_record& u, const error& why) {
  if (why.is(youtube_errc::cancelled)) {
    // Stopping: give the claim back at once; the session is kept.
    (void)uploads_.retry_later(u.id, why.message(), std::chrono::seconds(0));
    return;
  }
  if (transient(why) && u.attempts < options_.max_attempts) {
    const auto delay = options_.retry_delay * u.attempts;
    log::warn(component, "upload interrupted; trying again later",
              {{"upload", u.id}, {"attempt", u.attempts}, {"error", why.message()}});
    if (auto r = uploads_.retry_later(u.id, why.message(), delay); !r) {
      log::warn(component, "cannot postpone the upload", {{"error", r.error().message()}});
    }
    return;
  }
  log::warn(component, "upload failed", {{"upload", u.id}, {"error", why.message()}});
  if (auto r = uploads_.fail(u.id, why.message()); !r) {
    log::warn(component, "cannot record the failure", {{"error", r.error().message()}});
    return;
  }
  u.status = "failed";
  u.error = why.message();
  publish(u);
}

void upload_worker::process(upload_record u) {
  log::info(component, "upload claimed",
            {{"upload", u.id}, {"project", u.project_id}, {"attempt", u.attempts}});
  publish(u);
  auto channel = channels_.find(u.user_id);
  if (!channel) {
    return settle(u, channel.error());
  }
  if (!*channel) {
    return settle(u, error(youtube_errc::not_connected,
                           "no YouTube channel is connected; connect one with GET "
                           "/api/v1/youtube/connect, then publish again"));
  }
  auto refresh_token = cipher_.open((*channel)->sealed_refresh_token);
  if (!refresh_token) {
    return settle(u, refresh_token.error());
  }
  oauth_client oauth(options_.youtube);
  access_token_cache tokens(oauth, *refresh_token);
  auto stop = [this] { return stopping_.load(); };

  if (!u.video_id) {
    if (!u.film_path) {
      return settle(u, error(youtube_errc::file, "the project has no film"));
    }
    auto film = inside(options_.media_dir, *u.film_path);
    if (!film) {
      return settle(u, error(youtube_errc::file, "the film's path leaves the media folder"));
    }
    nlohmann::json resource = {
        {"snippet", {{"title", u.title}, {"description", u.description}, {"tags", u.tags}}},
        {"status", {{"privacyStatus", u.privacy_status}, {"selfDeclaredMadeForKids", false}}}};
    upload_hooks hooks;
    hooks.before_insert = [this] { return quota_.reserve_upload(); };
    hooks.on_session = [&](const std::string& uri) {
      std::error_code ec;
      auto size = static_cast<std::int64_t>(std::filesystem::file_size(*film, ec));
      if (auto r = uploads_.save_session(u.id, uri, ec ? 0 : size); !r) {
        log::warn(component, "cannot store the upload session", {{"error", r.error().message()}});
      }
      u.session_uri = uri;
      u.total_bytes = ec ? 0 : size;
      u.bytes_sent = 0;
    };
    hooks.on_progress = [&](std::int64_t held, std::int64_t total) {
      u.bytes_sent = held;
      u.total_bytes = total;
      if (auto r = uploads_.save_progress(u.id, held, options_.lease); !r) {
        log::warn(component, "cannot store the upload progress", {{"error", r.error().message()}});
      }
      publish(u);
    };
    hooks.stop_requested = stop;
    resumable_uploader uploader(options_.youtube, tokens);
    auto video = uploader.upload({*film, "video/mp4", resource}, u.session_uri.value_or(""), hooks);
    if (!video) {
      return settle(u, video.error());
    }
    const auto url = "https://www.youtube.com/watch?v=" + video->id;
    if (auto r = uploads_.save_video(u.id, video->id, url, (*channel)->channel_id); !r) {
      // YouTube has the video; recording it failed. The session URI is still
      // stored, so the next attempt's status query finds the finished video.
      return settle(u, r.error());
    }
    u.video_id = video->id;
    u.youtube_url = url;
    log::info(component, "video uploaded",
              {{"upload", u.id},
               {"video", video->id},
               {"sessions", uploader.stats().sessions},
               {"retries", uploader.stats().retries}});
  }

  youtube_api api(options_.youtube, tokens, retry_settings{options_.youtube.max_retries, stop});
  if (u.thumbnail_path && !u.thumbnail_set) {
    auto path = inside(options_.media_dir, *u.thumbnail_path);
    std::string image;
    if (path) {
      std::ifstream in(*path, std::ios::binary);
      image.resize(2 * 1024 * 1024 + 1);
      in.read(image.data(), static_cast<std::streamsize>(image.size()));
      image.resize(static_cast<std::size_t>(in.gcount()));
    }
    if (!image.empty()) {  // a film without a thumbnail file is published without one
      auto type = path->extension() == ".png" ? "image/png" : "image/jpeg";
      if (auto q = quota_.reserve_units(units_thumbnails_set, "thumbnails.set"); !q) {
        return settle(u, q.error());
      }
      auto url = api.set_thumbnail(*u.video_id, image, type);
      if (!url) {
        return settle(u, url.error());
      }
      if (auto r = uploads_.save_thumbnail(u.id, *url); !r) {
        return settle(u, r.error());
      }
      u.thumbnail_url = *url;
      u.thumbnail_set = true;
    }
  }
  if (u.playlist_title && !u.playlist_id) {
    if (auto q = quota_.reserve_units(units_playlists_insert, "playlists.insert"); !q) {
      return settle(u, q.error());
    }
    auto playlist = api.insert_playlist(*u.playlist_title, u.privacy_status);
    if (!playlist) {
      return settle(u, playlist.error());
    }
    if (auto r = uploads_.save_playlist(u.id, *playlist); !r) {
      return settle(u, r.error());
    }
    u.playlist_id = *playlist;
  }
  if (u.playlist_id && !u.playlist_item_id) {
    if (auto q = quota_.reserve_units(units_playlist_items_insert, "playlistItems.insert"); !q) {
      return settle(u, q.error());
    }
    auto item = api.insert_playlist_item(*u.playlist_id, *u.video_id);
    if (!item) {
      return settle(u, item.error());
    }
    if (auto r = uploads_.save_playlist_item(u.id, *item); !r) {
      return settle(u, r.error());
    }
    u.playlist_item_id = *item;
  }
  if (auto r = uploads_.complete(u.id); !r) {
    return settle(u, r.error());
  }
  u.status = "complete";
  u.bytes_sent = u.total_bytes;
  log::info(component, "upload complete", {{"upload", u.id}, {"video", *u.video_id}});
  publish(u);
}

}  // namespace reelfarm::youtube
