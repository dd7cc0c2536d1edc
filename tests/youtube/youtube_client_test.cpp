// The YouTube client against the local YouTube: OAuth, sealed tokens, the
// Data API calls, and the resumable upload through every fault the server
// can inject, checked byte for byte.
#include <sodium.h>

#include <fstream>
#include <random>

#include <catch2/catch.hpp>

#include "reelfarm/testing/temp_dir.hpp"
#include "reelfarm/youtube/access_token_cache.hpp"
#include "reelfarm/youtube/errc.hpp"
#include "reelfarm/youtube/oauth_client.hpp"
#include "reelfarm/youtube/oauth_state.hpp"
#include "reelfarm/youtube/resumable_uploader.hpp"
#include "reelfarm/youtube/token_cipher.hpp"
#include "reelfarm/youtube/youtube_api.hpp"
#include "support/local_youtube.hpp"

using namespace reelfarm;
using namespace reelfarm::youtube;
using reelfarm::testing::local_youtube;

namespace {

// A refresh token for the local server, through the consent page.
std::string connect(local_youtube& yt, oauth_client& oauth) {
  const std::string state = "test-state";
  auto code = yt.consent(oauth.consent_url(state), state);
  auto grant = oauth.exchange_code(code);
  REQUIRE(grant);
  REQUIRE_FALSE(grant->refresh_token.empty());
  return grant->refresh_token;
}

// `size` random bytes in `path`.
void write_random_file(const std::filesystem::path& path, std::size_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::ofstream out(path, std::ios::binary);
  std::vector<std::uint64_t> block(1 << 16);
  std::size_t left = size;
  while (left > 0) {
    for (auto& w : block) {
      w = rng();
    }
    auto n = std::min(left, block.size() * sizeof(std::uint64_t));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    left -= n;
  }
}

nlohmann::json video_resource(const std::string& title) {
  return {{"snippet", {{"title", title}, {"description", "made by reelfarm"}, {"tags", {"ai"}}}},
          {"status", {{"privacyStatus", "unlisted"}}}};
}

const nlohmann::json* find_video(const nlohmann::json& videos, const std::string& id) {
  for (const auto& v : videos["videos"]) {
    if (v["id"] == id) {
      return &v;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("refresh tokens are sealed and open only with their key", "[youtube][crypto]") {
  auto cipher = token_cipher::create(local_youtube::token_key);
  REQUIRE(cipher);
  auto sealed = cipher->seal("1//refresh-token-secret");
  CHECK(sealed.starts_with("v1:"));
  CHECK(sealed.find("refresh-token-secret") == std::string::npos);
  CHECK(cipher->seal("1//refresh-token-secret") != sealed);  // a fresh nonce each time
  auto opened = cipher->open(sealed);
  REQUIRE(opened);
  CHECK(*opened == "1//refresh-token-secret");

  auto other = token_cipher::create("a passphrase that is long enough to be a key!");
  REQUIRE(other);
  CHECK(other->open(sealed).error().is(youtube_errc::crypto));
  auto tampered = sealed;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  CHECK_FALSE(cipher->open(tampered));
  CHECK(token_cipher::create("short").error().is(youtube_errc::config));
}

TEST_CASE("the OAuth state is bound to the user and expires", "[youtube][oauth]") {
  auto cipher = token_cipher::create(local_youtube::token_key);
  REQUIRE(cipher);
  const auto now = std::chrono::system_clock::now();
  const std::string user = "6f1c2a4e-0d1b-4e5a-9c3f-2b7d8e9f0a1b";
  const auto binding = oauth_binding("browser-nonce");
  CHECK(binding.size() == 64);
  CHECK(binding != oauth_binding("another-nonce"));
  auto state = make_oauth_state(*cipher, user, binding, now);
  CHECK(state.find("browser-nonce") == std::string::npos);
  auto back = verify_oauth_state(*cipher, state, now + std::chrono::minutes(5));
  REQUIRE(back);
  CHECK(back->user_id == user);
  CHECK(back->binding == binding);
  CHECK(back->id.size() == 32);
  CHECK(std::chrono::abs(back->expires_at - (now + oauth_state_lifetime)) <
        std::chrono::seconds(2));
  // Each state has its own id (the single-use key).
  auto other = verify_oauth_state(*cipher, make_oauth_state(*cipher, user, binding, now), now);
  REQUIRE(other);
  CHECK(other->id != back->id);
  // The binding is signed: swapping in another browser's is a forgery.
  auto mac_at = state.rfind('.');
  auto rebound = state.substr(0, mac_at - binding.size()) + oauth_binding("another-nonce") +
                 state.substr(mac_at);
  CHECK(verify_oauth_state(*cipher, rebound, now).error().is(youtube_errc::invalid_state));
  CHECK(verify_oauth_state(*cipher, state, now + std::chrono::minutes(11))
            .error()
            .is(youtube_errc::invalid_state));
  auto forged = "7f1c2a4e-0d1b-4e5a-9c3f-2b7d8e9f0a1b" + state.substr(user.size());
  CHECK(verify_oauth_state(*cipher, forged, now).error().is(youtube_errc::invalid_state));
  CHECK_FALSE(verify_oauth_state(*cipher, "garbage", now));
  CHECK_FALSE(verify_oauth_state(*cipher, "", now));
}

TEST_CASE("options refuse a chunk size that is not a multiple of 256 KiB", "[youtube]") {
  local_youtube yt;
  auto o = yt.options();
  CHECK(o.validate());
  o.chunk_size = 1000 * 1000;
  CHECK(o.validate().error().is(youtube_errc::config));
  o = yt.options();
  o.token_key = "too short";
  CHECK_FALSE(o.validate());
}

TEST_CASE("the consent URL asks for offline access and a consent prompt", "[youtube][oauth]") {
  local_youtube yt;
  oauth_client oauth(yt.options());
  auto url = oauth.consent_url("s t&ate");
  CHECK_THAT(url, Catch::Contains("access_type=offline"));
  CHECK_THAT(url, Catch::Contains("prompt=consent"));
  CHECK_THAT(url, Catch::Contains("response_type=code"));
  CHECK_THAT(url, Catch::Contains("state=s%20t%26ate"));
  CHECK_THAT(url, Catch::Contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fapi%2Fv1%2Fyoutube"));
}

TEST_CASE("code exchange, refresh after expiry, revoked refresh token", "[youtube][oauth]") {
  local_youtube yt;
  auto options = yt.options();
  oauth_client oauth(options);
  auto refresh = connect(yt, oauth);
  // A code is good once.
  CHECK(oauth.exchange_code("4/never-issued").error().is(youtube_errc::invalid_grant));

  access_token_cache tokens(oauth, refresh);
  youtube_api api(options, tokens);
  auto channel = api.my_channel();
  REQUIRE(channel);
  CHECK(channel->id == yt.read("stats")["channel"]["id"]);
  CHECK(tokens.refreshes() == 1);

  // Google expired the access token early: one 401, one refresh, success.
  yt.control("expire_access_tokens");
  REQUIRE(api.my_channel());
  CHECK(tokens.refreshes() == 2);

  // The user revoked the app: refresh fails with invalid_grant, which says
  // what to do (reconnect), and no upload session is started.
  yt.control("revoke_refresh_tokens");
  access_token_cache revoked(oauth, refresh);
  auto refused = revoked.get();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(youtube_errc::invalid_grant));
  CHECK_THAT(refused.error().message(), Catch::Contains("connected again"));
  CHECK(refused.error().message().find(refresh) == std::string::npos);

  reelfarm::testing::temp_dir dir;
  write_random_file(dir.path() / "film.mp4", 300000, 1);
  resumable_uploader uploader(options, revoked);
  int sessions = 0;
  upload_hooks hooks;
  hooks.on_session = [&](const std::string&) { ++sessions; };
  auto up = uploader.upload({dir.path() / "film.mp4", "video/mp4", video_resource("x")}, "", hooks);
  REQUIRE_FALSE(up);
  CHECK(up.error().is(youtube_errc::invalid_grant));
  CHECK(sessions == 0);
  CHECK(yt.read("stats")["sessions"] == 0);

  // Revoking again is not an error; revoking nonsense is not either.
  CHECK(oauth.revoke(refresh));
}

TEST_CASE("a 50 MB film survives every fault, byte for byte", "[youtube][upload][fault]") {
  local_youtube yt;
  auto options = yt.options();
  options.chunk_size = 1 << 20;
  oauth_client oauth(options);
  const auto refresh_token = connect(yt, oauth);
  access_token_cache tokens(oauth, refresh_token);
  reelfarm::testing::temp_dir dir;
  const auto film = dir.path() / "film.mp4";
  const std::size_t size = 50 * 1000 * 1000 + 12345;  // not a multiple of 256 KiB
  write_random_file(film, size, 42);
  const auto expected = reelfarm::testing::sha256_file(film);

  constexpr std::int64_t mb = 1 << 20;
  yt.control("faults",
             {{"faults",
               {
                   {{"kind", "expire"}, {"at_byte", 2 * mb}},  // session gone: start over
                   {{"kind", "status"}, {"code", 503}, {"at_byte", 6 * mb}},
                   {{"kind", "status"}, {"code", 503}, {"at_byte", 6 * mb}},
                   {{"kind", "status"}, {"code", 500}, {"at_byte", 8 * mb}},
                   {{"kind", "status"}, {"code", 502}, {"at_byte", 9 * mb}},
                   {{"kind", "status"}, {"code", 504}, {"at_byte", 10 * mb}},
                   {{"kind", "drop"}, {"at_byte", 12 * mb}},  // connection dropped mid-chunk
                   {{"kind", "partial"}, {"keep", 262144}, {"at_byte", 18 * mb}},
                   {{"kind", "partial"}, {"keep", 3 * 262144}, {"at_byte", 24 * mb}},
                   {{"kind", "drop"}, {"at_byte", 33 * mb}},
                   {{"kind", "status"}, {"code", 503}, {"at_byte", 45 * mb}},
               }}});

  // The first run stops at ~30 MB as if the process died; the session URI
  // it stored lets a second run (a new uploader, as after a restart) resume.
  std::string stored_session;
  std::int64_t last_progress = -1;
  bool progress_monotonic_within_session = true;
  bool expired_tokens = false;
  int sessions_seen = 0;
  upload_hooks hooks;
  hooks.on_session = [&](const std::string& uri) {
    stored_session = uri;
    ++sessions_seen;
    last_progress = -1;
  };
  hooks.on_progress = [&](std::int64_t held, std::int64_t total) {
    CHECK(total == static_cast<std::int64_t>(size));
    if (held < last_progress) {
      progress_monotonic_within_session =
          false;  // a 308 may hold less than sent, never less than before
    }
    last_progress = held;
    if (held > 20 * mb && !expired_tokens) {
      expired_tokens = true;
      yt.control("expire_access_tokens");  // the next chunk gets 401
    }
  };
  hooks.stop_requested = [&] { return last_progress > 30 * mb; };
  resumable_uploader first(options, tokens);
  auto stopped = first.upload({film, "video/mp4", video_resource("Fifty")}, "", hooks);
  REQUIRE_FALSE(stopped);
  INFO(stopped.error().full_text());
  CHECK(stopped.error().is(youtube_errc::cancelled));
  CHECK(first.stats().expired_sessions == 1);
  CHECK(first.stats().short_acks >= 2);
  CHECK(first.stats().retries >= 6);
  CHECK(sessions_seen == 2);
  REQUIRE_FALSE(stored_session.empty());
  CHECK(yt.read("videos")["videos"].empty());  // nothing complete yet

  hooks.stop_requested = {};
  access_token_cache after_restart(oauth, refresh_token);  // memory is gone after a restart
  resumable_uploader second(options, after_restart);
  auto done = second.upload({film, "video/mp4", video_resource("Fifty")}, stored_session, hooks);
  REQUIRE(done);
  CHECK(second.stats().sessions == 0);        // resumed, no new videos.insert
  CHECK(second.stats().status_queries >= 1);  // asked where to resume first
  CHECK(progress_monotonic_within_session);
  CHECK(last_progress == static_cast<std::int64_t>(size));

  auto videos = yt.read("videos");
  const auto* video = find_video(videos, done->id);
  REQUIRE(video != nullptr);
  CHECK((*video)["size"] == size);
  CHECK((*video)["sha256"] == expected);
  CHECK((*video)["snippet"]["title"] == "Fifty");
  CHECK(videos["videos"].size() == 1);
  auto stats = yt.read("stats");
  CHECK(stats["pending_faults"] == 0);
  CHECK(stats["sessions"] == 2);
  CHECK(tokens.refreshes() >= 2);  // the expired access token was refreshed
}

TEST_CASE("thumbnail and playlist after the upload", "[youtube][api]") {
  local_youtube yt;
  auto options = yt.options();
  oauth_client oauth(options);
  access_token_cache tokens(oauth, connect(yt, oauth));
  reelfarm::testing::temp_dir dir;
  write_random_file(dir.path() / "film.mp4", 700000, 7);
  resumable_uploader uploader(options, tokens);
  auto video =
      uploader.upload({dir.path() / "film.mp4", "video/mp4", video_resource("Short")}, "", {});
  REQUIRE(video);

  youtube_api api(options, tokens);
  std::string jpeg = "\xff\xd8\xff\xe0 not really a jpeg but it starts like one";
  auto thumb = api.set_thumbnail(video->id, jpeg, "image/jpeg");
  REQUIRE(thumb);
  CHECK_THAT(*thumb, Catch::Contains(video->id));
  CHECK(api.set_thumbnail(video->id, "GIF89a", "image/jpeg").error().is(youtube_errc::rejected));
  CHECK(api.set_thumbnail("nope", jpeg, "image/jpeg").error().is(youtube_errc::rejected));

  auto playlist = api.insert_playlist("Reelfarm films", "unlisted");
  REQUIRE(playlist);
  auto item = api.insert_playlist_item(*playlist, video->id);
  REQUIRE(item);
  CHECK(api.insert_playlist_item("PLnope", video->id).error().is(youtube_errc::rejected));

  const auto all = yt.read("videos");
  const auto* stored = find_video(all, video->id);
  REQUIRE(stored != nullptr);
  CHECK_FALSE((*stored)["thumbnail"].is_null());
  CHECK((*stored)["playlists"] == nlohmann::json::array({*playlist}));

  // YouTube's quota is spent: a clear error, no retries.
  yt.control("quota", {{"exhausted", true}});
  auto refused = api.insert_playlist("another", "private");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(youtube_errc::quota_exceeded));
}

TEST_CASE("the local server refuses chunks that break the protocol", "[youtube][contract]") {
  local_youtube yt;
  auto options = yt.options();
  oauth_client oauth(options);
  access_token_cache tokens(oauth, connect(yt, oauth));
  auto token = tokens.get();
  REQUIRE(token);
  http_client http(std::chrono::seconds(10), std::chrono::seconds(5));
  const std::string meta = video_resource("Proto").dump();
  http_request start{"POST",
                     options.upload_url + "/videos?uploadType=resumable&part=snippet,status",
                     {"Authorization: Bearer " + *token, "Content-Type: application/json",
                      "X-Upload-Content-Length: 600000", "X-Upload-Content-Type: video/mp4"},
                     meta,
                     {}};
  auto no_auth = start;
  no_auth.headers.erase(no_auth.headers.begin());
  CHECK(http.perform(no_auth)->status == 401);
  auto started = http.perform(start);
  REQUIRE(started);
  INFO(started->body);
  REQUIRE(started->status == 200);
  auto session = started->header("location");
  REQUIRE_FALSE(session.empty());

  std::string bytes(300000, 'x');
  auto put = [&](std::string range, std::string_view body) {
    return http.perform({"PUT", session, {"Content-Range: " + range}, body, {}})->status;
  };
  CHECK(put("bytes 0-299999/600000", bytes) == 400);  // not a multiple of 256 KiB
  CHECK(put("bytes 0-262143", std::string_view(bytes).substr(0, 262144)) == 400);  // no total
  CHECK(put("bytes 0-262143/600001", std::string_view(bytes).substr(0, 262144)) == 400);
  CHECK(put("bytes 0-262143/600000", std::string_view(bytes).substr(0, 262144)) == 308);
  CHECK(put("bytes */600000", "") == 308);
  CHECK(put("bytes 524288-599999/600000", std::string_view(bytes).substr(0, 75712)) == 400);  // gap
  std::string other(262144, 'y');
  CHECK(put("bytes 0-262143/600000", other) == 400);  // a resend with other bytes
  CHECK(http.perform({"PUT",
                      session,
                      {"Authorization: Bearer wrong", "Content-Range: bytes */600000"},
                      "",
                      {}})
            ->status == 401);
}
