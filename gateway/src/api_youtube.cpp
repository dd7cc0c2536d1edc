// Publishing to YouTube (issue #11): connecting a channel (OAuth 2.0
// authorization-code flow), queueing an upload of a finished film, and the
// user's uploads. The upload itself runs in the coordinator role
// (youtube::upload_worker); these routes only record what was asked.
#include <sodium.h>

#include <array>

#include "api_state.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/gateway/token_codec.hpp"
#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/redis_client.hpp"
#include "reelfarm/youtube/access_token_cache.hpp"
#include "reelfarm/youtube/channel_repository.hpp"
#include "reelfarm/youtube/errc.hpp"
#include "reelfarm/youtube/oauth_client.hpp"
#include "reelfarm/youtube/oauth_state.hpp"
#include "reelfarm/youtube/quota_ledger.hpp"
#include "reelfarm/youtube/token_cipher.hpp"
#include "reelfarm/youtube/upload_repository.hpp"
#include "reelfarm/youtube/youtube_api.hpp"

namespace reelfarm::gateway {

namespace {

nlohmann::json nullable(const std::optional<std::string>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// An upload as users see it; the session URI (a credential) never leaves.
nlohmann::json upload_json(const youtube::upload_record& u) {
  return {{"id", u.id},
          {"project_id", u.project_id},
          {"status", u.status},
          {"title", u.title},
          {"description", u.description},
          {"tags", u.tags},
          {"privacy_status", u.privacy_status},
          {"channel_id", nullable(u.channel_id)},
          {"video_id", nullable(u.video_id)},
          {"playlist_id", nullable(u.playlist_id)},
          {"url", nullable(u.youtube_url)},
          {"thumbnail_url", nullable(u.thumbnail_url)},
          {"bytes_sent", u.bytes_sent},
          {"total_bytes", u.total_bytes},
          {"error", nullable(u.error)},
          {"created_at", u.created_at},
          {"updated_at", u.updated_at},
          {"finished_at", nullable(u.finished_at)}};
}

std::optional<http_response> disabled(const api_state& s) {
  if (s.youtube.enabled()) {
    return std::nullopt;
  }
  return error_response(503, "youtube_disabled",
                        "publishing to YouTube is not configured on this farm "
                        "(youtube.client_id and youtube.token_key)");
}

// The YouTube client's errors as API errors; Google's own failures are 502.
http_response youtube_error(const error& e, const http_request& request) {
  if (e.category() != "youtube") {
    return from_error(e, request);
  }
  switch (static_cast<youtube_errc>(e.code())) {
    case youtube_errc::invalid_state:
      return error_response(400, "invalid_state", e.message());
    case youtube_errc::invalid_grant:
      return error_response(400, "invalid_grant", e.message());
    case youtube_errc::quota_exceeded:
      return error_response(429, "quota_exceeded", e.message());
    case youtube_errc::rejected:
      return error_response(502, "youtube_rejected", e.message());
    case youtube_errc::transport:
    case youtube_errc::timeout:
    case youtube_errc::server_error:
    case youtube_errc::invalid_response:
      return error_response(502, "youtube_unavailable", e.message());
    default:
      return from_error(e, request);
  }
}

// Characters, not bytes: YouTube's title limit counts characters.
std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) {
    n += (c & 0xC0) != 0x80;
  }
  return n;
}

// The browser's half of an OAuth state: a random nonce in an HttpOnly
// cookie sent only to the callback. SameSite=Lax, as Google's redirect back
// is a cross-site top-level navigation, which Strict cookies miss.
constexpr std::string_view oauth_cookie = "reelfarm_oauth";
constexpr std::string_view oauth_cookie_path = "/api/v1/youtube/callback";

http_response invalid_state(std::string why) {
  return error_response(400, "invalid_state",
                        "the OAuth state is not valid: " + std::move(why) +
                            "; start again with GET /api/v1/youtube/connect");
}

// Marks the state used (Redis SET NX, for as long as it could be valid):
// true the first time, false for a replay.
result<bool> claim_state(const api_state& s, const youtube::oauth_state& state) {
  auto redis = redis_client::connect(s.redis_url, std::chrono::seconds(2));
  if (!redis) {
    return std::move(redis).error();
  }
  auto left = std::chrono::duration_cast<std::chrono::seconds>(state.expires_at -
                                                               std::chrono::system_clock::now())
                  .count();
  auto set = redis->command({"SET", "youtube:oauth_state:{" + state.id + "}", "used", "NX", "EX",
                             std::to_string(std::max<std::int64_t>(left, 1) + 60)});
  if (!set) {
    return std::move(set).error();
  }
  return *set == "OK";
}

http_response connect(api_state& s, request_context& ctx) {
  if (auto off = disabled(s)) {
    return std::move(*off);
  }
  auto cipher = youtube::token_cipher::create(s.youtube.token_key);
  if (!cipher) {
    return from_error(cipher.error(), ctx.request);
  }
  // The state names the user and is bound to this browser: the callback
  // needs the cookie whose hash the state carries.
  auto nonce = random_token(32);
  auto state =
      youtube::make_oauth_state(*cipher, ctx.caller->user_id, youtube::oauth_binding(nonce),
                                std::chrono::system_clock::now());
  youtube::oauth_client oauth(s.youtube);
  auto res = json_response(200, dump_json({{"url", oauth.consent_url(state)},
                                           {"expires_in", youtube::oauth_state_lifetime.count()}}));
  res.headers.emplace_back("Set-Cookie",
                           cookie_header(s, ctx.request, oauth_cookie, nonce, oauth_cookie_path,
                                         youtube::oauth_state_lifetime.count(), "Lax"));
  res.set_header("Cache-Control", "no-store");
  return res;
}

http_response callback(api_state& s, request_context& ctx) {
  if (auto off = disabled(s)) {
    return std::move(*off);
  }
  if (auto denied = ctx.request.query_param("error")) {
    return error_response(
        400, "consent_denied",
        "the YouTube channel was not connected: Google answered '" + denied->substr(0, 64) + "'");
  }
  auto code = ctx.request.query_param("code");
  auto state = ctx.request.query_param("state");
  if (!code || code->empty() || code->size() > 2048 || !state || state->empty()) {
    return error_response(400, "invalid_parameter", "code and state are required");
  }
  auto cipher = youtube::token_cipher::create(s.youtube.token_key);
  if (!cipher) {
    return from_error(cipher.error(), ctx.request);
  }
  auto verified = youtube::verify_oauth_state(*cipher, *state, std::chrono::system_clock::now());
  if (!verified) {
    return youtube_error(verified.error(), ctx.request);
  }
  // Only the browser that asked for this consent page may finish it.
  auto nonce = cookie_value(ctx.request, oauth_cookie);
  auto binding = nonce ? youtube::oauth_binding(*nonce) : std::string();
  if (!nonce || nonce->empty() || binding.size() != verified->binding.size() ||
      sodium_memcmp(binding.data(), verified->binding.data(), binding.size()) != 0) {
    return invalid_state(
        "it was not started in this browser (its cookie is missing or does not match)");
  }
  // A caller who is signed in must be the user the state names.
  if (auto caller = signed_in_caller(s, ctx.request);
      caller && caller->user_id != verified->user_id) {
    return invalid_state("it was started by another user than the one signed in");
  }
  // Single use: a replay (or a second tab racing the first) is refused.
  auto first = claim_state(s, *verified);
  if (!first) {
    return from_error(first.error(), ctx.request);
  }
  if (!*first) {
    return invalid_state("it was already used");
  }
  const auto& user = verified->user_id;
  youtube::oauth_client oauth(s.youtube);
  auto grant = oauth.exchange_code(*code);
  if (!grant) {
    return youtube_error(grant.error(), ctx.request);
  }
  // The channel's id and title, if the quota allows the 1-unit lookup; the
  // channel is connected either way.
  youtube::channel_info channel;
  youtube::quota_ledger quota(s.pool, s.youtube.daily_uploads, s.youtube.daily_units);
  if (quota.reserve_units(youtube::units_channels_list, "channels.list")) {
    youtube::access_token_cache tokens(oauth, grant->refresh_token);
    youtube::youtube_api api(s.youtube, tokens, youtube::retry_settings{2, {}});
    if (auto found = api.my_channel()) {
      channel = *found;
    } else {
      log::warn("gateway", "cannot read the connected YouTube channel",
                {{"user", user}, {"error", found.error().message()}});
    }
  }
  youtube::channel_repository channels(s.pool);
  auto saved = channels.save(user, cipher->seal(grant->refresh_token), channel.id, channel.title,
                             grant->scope);
  if (!saved) {
    return from_error(saved.error(), ctx.request);
  }
  log::info("gateway", "YouTube channel connected", {{"user", user}, {"channel", channel.id}});
  auto res = json_response(200, dump_json({{"connected", true},
                                           {"channel_id", channel.id},
                                           {"channel_title", channel.title},
                                           {"connected_at", saved->connected_at}}));
  // The nonce has served its purpose.
  res.headers.emplace_back(
      "Set-Cookie", cookie_header(s, ctx.request, oauth_cookie, "", oauth_cookie_path, 0, "Lax"));
  return res;
}

http_response disconnect(api_state& s, request_context& ctx) {
  if (auto off = disabled(s)) {
    return std::move(*off);
  }
  youtube::channel_repository channels(s.pool);
  auto removed = channels.remove(ctx.caller->user_id);
  if (!removed) {
    return from_error(removed.error(), ctx.request);
  }
  if (!*removed) {
    return error_response(404, "not_connected", "no YouTube channel is connected");
  }
  // Forgotten here first; revoking at Google is best effort (the user can
  // also revoke at myaccount.google.com).
  bool revoked = false;
  auto cipher = youtube::token_cipher::create(s.youtube.token_key);
  if (cipher) {
    if (auto token = cipher->open((*removed)->sealed_refresh_token)) {
      youtube::oauth_client oauth(s.youtube);
      auto r = oauth.revoke(*token);
      revoked = static_cast<bool>(r);
      if (!r) {
        log::warn("gateway", "cannot revoke the YouTube token at Google",
                  {{"user", ctx.caller->user_id}, {"error", r.error().message()}});
      }
    }
  }
  return json_response(200, dump_json({{"disconnected", true}, {"revoked", revoked}}));
}

constexpr std::array<field_spec, 6> publish_fields{{
    {"title", json_kind::string, false, 400},
    {"description", json_kind::string, false, 5000},
    {"tags", json_kind::array, false, 0},
    {"privacy_status", json_kind::string, false, 16},
    {"playlist", json_kind::string, false, 600},
    {"create_playlist", json_kind::boolean, false, 0},
}};

// YouTube's own rules, checked here so a bad request fails now, not in the
// worker minutes later.
std::optional<std::string> invalid_publish(const nlohmann::json& body,
                                           youtube::upload_request& out) {
  // Types are checked against publish_fields already; reading through
  // string_field keeps a wrong type from ever throwing (a 500) if a field's
  // spec changes.
  out.title = string_field(body, "title", out.title);
  if (out.title.find_first_not_of(" \t\r\n") == std::string::npos) {
    return "title must not be blank";
  }
  if (utf8_length(out.title) > 100) {
    return "title is longer than 100 characters";
  }
  out.description = string_field(body, "description");
  for (const auto* text : {&out.title, &out.description}) {
    if (text->find_first_of("<>") != std::string::npos) {
      return "title and description must not contain < or >";
    }
  }
  if (auto tags = body.find("tags"); tags != body.end() && tags->is_array()) {
    std::size_t total = 0;
    for (const auto& tag : *tags) {
      if (!tag.is_string() || tag.get_ref<const std::string&>().empty()) {
        return "tags must be non-empty strings";
      }
      const auto& t = tag.get_ref<const std::string&>();
      if (t.find_first_of("<>,") != std::string::npos) {
        return "a tag must not contain < > or ,";
      }
      // YouTube counts quotes around tags with spaces, and the commas between.
      total += utf8_length(t) + (t.find(' ') != std::string::npos ? 2 : 0) + (total ? 1 : 0);
      out.tags.push_back(t);
    }
    if (total > 500) {
      return "tags are longer than YouTube's 500 characters in all";
    }
  }
  out.privacy_status = string_field(body, "privacy_status", "private");
  if (out.privacy_status != "private" && out.privacy_status != "unlisted" &&
      out.privacy_status != "public") {
    return "privacy_status must be private, unlisted or public";
  }
  auto flag = body.find("create_playlist");
  const bool create = flag != body.end() && flag->is_boolean() && flag->get<bool>();
  auto playlist = string_field(body, "playlist");
  if (create) {
    if (playlist.find_first_not_of(" \t\r\n") == std::string::npos || utf8_length(playlist) > 150) {
      return "create_playlist needs 'playlist': the new playlist's title (1 to 150 characters)";
    }
    out.playlist_title = playlist;
  } else if (!playlist.empty()) {
    if (playlist.size() < 2 || playlist.size() > 64 ||
        playlist.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789_-") != std::string::npos) {
      return "playlist must be a YouTube playlist id (or set create_playlist to create one)";
    }
    out.playlist_id = playlist;
  }
  return std::nullopt;
}

http_response publish(api_state& s, request_context& ctx) {
  if (auto off = disabled(s)) {
    return std::move(*off);
  }
  return with_json(ctx.request, publish_fields, [&](const nlohmann::json& body) {
    auto project = s.projects.get(ctx.caller->user_id, ctx.param("id"));
    if (!project) {
      return from_error(project.error(), ctx.request);
    }
    youtube::upload_request request;
    request.user_id = ctx.caller->user_id;
    request.project_id = project->id;
    request.title = project->title.substr(0, 100);
    if (auto why = invalid_publish(body, request)) {
      return error_response(422, "validation_failed", *why);
    }
    youtube::channel_repository channels(s.pool);
    auto channel = channels.find(ctx.caller->user_id);
    if (!channel) {
      return from_error(channel.error(), ctx.request);
    }
    if (!*channel) {
      return error_response(409, "youtube_not_connected",
                            "connect a YouTube channel first (GET /api/v1/youtube/connect)");
    }
    // A clear error now rather than a failed upload later; the worker
    // reserves the quota itself right before the call.
    youtube::quota_ledger quota(s.pool, s.youtube.daily_uploads, s.youtube.daily_units);
    auto left = quota.left();
    if (!left) {
      return from_error(left.error(), ctx.request);
    }
    if (left->uploads <= 0) {
      auto res =
          error_response(429, "quota_exceeded",
                         "YouTube quota exceeded: all " + std::to_string(s.youtube.daily_uploads) +
                             " uploads of today are used; the quota resets at midnight "
                             "Pacific Time");
      return res;
    }
    auto made = youtube::upload_repository(s.pool).create(request);
    if (!made) {
      if (made.error().is(store_errc::conflict)) {
        return error_response(409, "conflict", made.error().message());
      }
      return from_error(made.error(), ctx.request);
    }
    auto res = json_response(202, dump_json(upload_json(*made)));
    res.set_header("Location", "/api/v1/youtube/videos/" + made->id);
    return res;
  });
}

http_response list_videos(api_state& s, request_context& ctx) {
  auto page = read_page(ctx.request);
  if (auto* failed = std::get_if<http_response>(&page)) {
    return std::move(*failed);
  }
  auto p = std::get<page_params>(page);
  auto found = youtube::upload_repository(s.pool).list(ctx.caller->user_id, p.limit, p.offset);
  if (!found) {
    return from_error(found.error(), ctx.request);
  }
  nlohmann::json items = nlohmann::json::array();
  for (const auto& u : *found) {
    items.push_back(upload_json(u));
  }
  return json_response(200,
                       dump_json({{"items", items}, {"limit", p.limit}, {"offset", p.offset}}));
}

http_response get_video(api_state& s, request_context& ctx) {
  auto found = youtube::upload_repository(s.pool).get(ctx.caller->user_id, ctx.param("id"));
  if (!found) {
    return from_error(found.error(), ctx.request);
  }
  return json_response(200, dump_json(upload_json(*found)));
}

}  // namespace

void add_youtube_routes(api_state& s) {
  auto bind = [&s](http_response (*f)(api_state&, request_context&)) {
    return [&s, f](request_context& ctx) { return f(s, ctx); };
  };
  auto& r = s.routes;
  r.add({"GET", "/api/v1/youtube/connect", access::creator, limit_class::standard, true,
         bind(connect)});
  // Google redirects the user's browser here: no bearer token; the signed
  // state says whose channel it is, the browser's cookie must match it, and
  // it is good once.
  r.add({"GET", "/api/v1/youtube/callback", access::anyone, limit_class::standard, true,
         bind(callback)});
  r.add({"DELETE", "/api/v1/youtube/connection", access::creator, limit_class::standard, true,
         bind(disconnect)});
  r.add({"POST", "/api/v1/projects/{id}/youtube", access::creator, limit_class::standard, true,
         bind(publish)});
  r.add({"GET", "/api/v1/youtube/videos", access::creator, limit_class::standard, true,
         bind(list_videos)});
  r.add({"GET", "/api/v1/youtube/videos/{id}", access::creator, limit_class::standard, true,
         bind(get_video)});
}

}  // namespace reelfarm::gateway
