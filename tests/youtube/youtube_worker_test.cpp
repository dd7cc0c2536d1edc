// The upload records, the quota ledger and the coordinator's upload worker
// against the real PostgreSQL and the local YouTube: crash and resume from
// the stored session, quota refused before the call, revoked tokens, the
// Salesforce outbox rows, and nothing recorded complete that is not.
#include <fstream>
#include <random>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "reelfarm/crm_sync/outbox_drainer.hpp"
#include "reelfarm/crm_sync/salesforce_client.hpp"
#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/pg_pool.hpp"
#include "reelfarm/testing/services.hpp"
#include "reelfarm/testing/temp_dir.hpp"
#include "reelfarm/youtube/channel_repository.hpp"
#include "reelfarm/youtube/errc.hpp"
#include "reelfarm/youtube/oauth_client.hpp"
#include "reelfarm/youtube/quota_ledger.hpp"
#include "reelfarm/youtube/token_cipher.hpp"
#include "reelfarm/youtube/upload_repository.hpp"
#include "reelfarm/youtube/upload_worker.hpp"
#include "support/local_salesforce.hpp"
#include "support/local_youtube.hpp"
#include "support/mirror_check.hpp"

using namespace reelfarm;
using namespace reelfarm::youtube;
using reelfarm::testing::local_youtube;

namespace {

/// A migrated scratch database with one user, a rendered project whose film
/// and thumbnail lie in a media folder, and the user's channel connected
/// through the local YouTube's consent page.
struct fixture {
  explicit fixture(std::size_t film_size = 3 * 1000 * 1000) : pool(db.dsn(), 4) {
    pqxx::connection conn(db.dsn());
    pqxx::work tx(conn);
    user = tx.exec1(
                 "INSERT INTO users (email, password_hash) VALUES ('yt@example.com', 'x') "
                 "RETURNING id::text")[0]
               .as<std::string>();
    other_user = tx.exec1(
                       "INSERT INTO users (email, password_hash) VALUES ('o@example.com', "
                       "'x') RETURNING id::text")[0]
                     .as<std::string>();
    const auto folder = "users/" + user + "/projects/p1/final";
    project = tx.exec_params1(
                    "INSERT INTO projects (user_id, title, status, video_url, thumbnail_url) "
                    "VALUES ($1::uuid, 'Film', 'complete', $2, $3) RETURNING id::text",
                    user, folder + "/film.mp4", folder + "/thumbnail.jpg")[0]
                  .as<std::string>();
    draft = tx.exec_params1(
                  "INSERT INTO projects (user_id, title) VALUES ($1::uuid, 'Draft') "
                  "RETURNING id::text",
                  user)[0]
                .as<std::string>();
    tx.commit();
    std::filesystem::create_directories(media.path() / folder);
    film = media.path() / folder / "film.mp4";
    std::mt19937_64 rng(99);
    std::ofstream out(film, std::ios::binary);
    for (std::size_t i = 0; i < film_size; i += 8) {
      auto w = rng();
      out.write(reinterpret_cast<const char*>(&w),
                static_cast<std::streamsize>(std::min<std::size_t>(8, film_size - i)));
    }
    out.close();
    std::ofstream thumb(media.path() / folder / "thumbnail.jpg", std::ios::binary);
    thumb << "\xff\xd8\xff\xe0 a thumbnail";
    thumb.close();
    options = yt.options();
    options.chunk_size = 256 * 1024;
    auto cipher = token_cipher::create(options.token_key);
    REQUIRE(cipher);
    oauth_client oauth(options);
    auto grant = oauth.exchange_code(yt.consent(oauth.consent_url("s"), "s"));
    REQUIRE(grant);
    channel_repository channels(pool);
    REQUIRE(channels.save(user, cipher->seal(grant->refresh_token), "UCtest", "Test", ""));
  }

  upload_worker_options worker_options() const {
    upload_worker_options o;
    o.youtube = options;
    o.postgres_dsn = db.dsn();
    o.redis_url = reelfarm::testing::test_services().redis_url;
    o.media_dir = media.path();
    o.poll_interval = std::chrono::milliseconds(20);
    o.retry_delay = std::chrono::seconds(0);
    return o;
  }

  upload_request request() const {
    upload_request r;
    r.user_id = user;
    r.project_id = project;
    r.title = "My film";
    r.description = "rendered by reelfarm";
    r.tags = {"ai", "film"};
    r.privacy_status = "unlisted";
    return r;
  }

  std::int64_t outbox_rows(const std::string& upload_id) {
    pqxx::connection conn(db.dsn());
    pqxx::nontransaction tx(conn);
    return tx
        .exec_params1(
            "SELECT count(*) FROM crm_outbox WHERE aggregate = "
            "'YouTube_Integration__c' AND record_key = $1",
            upload_id)[0]
        .as<std::int64_t>();
  }

  reelfarm::testing::scratch_database db;
  pg_pool pool;
  local_youtube yt;
  reelfarm::testing::temp_dir media;
  youtube_options options;
  std::string user, other_user, project, draft;
  std::filesystem::path film;
};

}  // namespace

TEST_CASE("an upload request checks the owner and the film", "[youtube][store]") {
  fixture f;
  upload_repository uploads(f.pool);
  auto other = f.request();
  other.user_id = f.other_user;
  CHECK(uploads.create(other).error().is(store_errc::not_found));
  auto draft = f.request();
  draft.project_id = f.draft;
  CHECK(uploads.create(draft).error().is(store_errc::conflict));
  auto made = uploads.create(f.request());
  REQUIRE(made);
  CHECK(made->status == "pending");
  CHECK(uploads.create(f.request()).error().is(store_errc::conflict));  // one live upload
  CHECK(uploads.get(f.other_user, made->id).error().is(store_errc::not_found));
  CHECK(uploads.list(f.user, 20, 0)->size() == 1);
  CHECK(uploads.list(f.other_user, 20, 0)->empty());
  CHECK(f.outbox_rows(made->id) == 1);  // the insert is mirrored
  // The table itself refuses a complete upload without a video.
  CHECK(uploads.complete(made->id).error().is(youtube_errc::database));
}

TEST_CASE("the quota is refused before the call, with a clear error", "[youtube][quota]") {
  fixture f;
  quota_ledger quota(f.pool, 2, 120);
  REQUIRE(quota.reserve_upload());
  REQUIRE(quota.reserve_upload());
  auto third = quota.reserve_upload();
  REQUIRE_FALSE(third);
  CHECK(third.error().is(youtube_errc::quota_exceeded));
  CHECK_THAT(third.error().message(),
             Catch::Contains("0 of today's 2 uploads are left") && Catch::Contains("Pacific Time"));
  REQUIRE(quota.reserve_units(50, "thumbnails.set"));
  REQUIRE(quota.reserve_units(50, "playlistItems.insert"));
  auto over = quota.reserve_units(50, "thumbnails.set");
  REQUIRE_FALSE(over);
  CHECK_THAT(over.error().message(), Catch::Contains("thumbnails.set needs 50 units but only 20"));
  auto left = quota.left();
  REQUIRE(left);
  CHECK(left->uploads == 0);
  CHECK(left->units == 20);

  // The worker meets the exhausted bucket before videos.insert: the upload
  // fails with the quota error and YouTube never saw a request.
  upload_repository uploads(f.pool);
  auto made = uploads.create(f.request());
  REQUIRE(made);
  auto o = f.worker_options();
  o.youtube.daily_uploads = 2;
  auto worker = upload_worker::create(o);
  REQUIRE(worker);
  REQUIRE((*worker)->run_once());
  auto after = uploads.get(f.user, made->id);
  REQUIRE(after);
  CHECK(after->status == "failed");
  CHECK_THAT(after->error.value_or(""), Catch::Contains("quota"));
  CHECK(f.yt.read("stats")["sessions"] == 0);
}

TEST_CASE("the worker uploads, sets the thumbnail, creates the playlist", "[youtube][worker]") {
  fixture f;
  upload_repository uploads(f.pool);
  auto request = f.request();
  request.playlist_title = "Reelfarm films";
  auto made = uploads.create(request);
  REQUIRE(made);
  f.yt.control("faults", {{"faults",
                           {{{"kind", "status"}, {"code", 503}, {"at_byte", 262144}},
                            {{"kind", "partial"}, {"keep", 262144}, {"at_byte", 1048576}}}}});
  auto worker = upload_worker::create(f.worker_options());
  REQUIRE(worker);
  REQUIRE(*(*worker)->run_once());
  auto done = uploads.get(f.user, made->id);
  REQUIRE(done);
  INFO(done->error.value_or(""));
  REQUIRE(done->status == "complete");
  REQUIRE(done->video_id);
  CHECK(done->youtube_url == "https://www.youtube.com/watch?v=" + *done->video_id);
  CHECK(done->bytes_sent == done->total_bytes);
  CHECK(done->total_bytes == static_cast<std::int64_t>(std::filesystem::file_size(f.film)));
  CHECK(done->thumbnail_set);
  CHECK(done->playlist_id);
  CHECK(done->playlist_item_id);
  CHECK_FALSE(done->session_uri);  // a finished session is forgotten

  auto videos = f.yt.read("videos");
  REQUIRE(videos["videos"].size() == 1);
  CHECK(videos["videos"][0]["sha256"] == reelfarm::testing::sha256_file(f.film));
  CHECK(videos["videos"][0]["snippet"]["tags"] == nlohmann::json::array({"ai", "film"}));
  CHECK(videos["videos"][0]["playlists"][0] == *done->playlist_id);
  // Status changes are mirrored, progress is not: insert, uploading, video,
  // thumbnail, playlist, complete -- far fewer rows than chunks.
  auto rows = f.outbox_rows(made->id);
  CHECK(rows >= 3);
  CHECK(rows <= 8);
  auto left = quota_ledger(f.pool, 100, 10000).left();
  CHECK(left->uploads == 99);
  CHECK(left->units == 10000 - 150);

  // Progress events in the project's stream.
  auto redis =
      redis_client::connect(reelfarm::testing::test_services().redis_url, std::chrono::seconds(2));
  REQUIRE(redis);
  auto events =
      redis->read_stream("project:events:" + f.project, "0-0", std::chrono::milliseconds(0), 1000);
  REQUIRE(events);
  int youtube_events = 0;
  std::int64_t last_bytes = -1;
  for (const auto& e : *events) {
    if (e.field("type") == "youtube") {
      ++youtube_events;
      last_bytes = nlohmann::json::parse(e.field("data"))["bytes_sent"].get<std::int64_t>();
    }
  }
  CHECK(youtube_events > 5);
  CHECK(last_bytes == done->total_bytes);
}

TEST_CASE("a worker that dies mid-upload is resumed from the stored session",
          "[youtube][worker][fault]") {
  fixture f(12 * 1000 * 1000);
  upload_repository uploads(f.pool);
  auto made = uploads.create(f.request());
  REQUIRE(made);
  f.yt.control("faults", {{"faults",
                           {{{"kind", "drop"}, {"at_byte", 2 * 1048576}},
                            {{"kind", "status"}, {"code", 502}, {"at_byte", 3 * 1048576}}}}});
  auto o = f.worker_options();
  {
    auto first = upload_worker::create(o);
    REQUIRE(first);
    (*first)->start();
    for (int i = 0; i < 400; ++i) {
      auto now = uploads.get(f.user, made->id);
      if (now && now->bytes_sent > 5 * 1048576) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    (*first)->stop();  // as good as a crash: the session URI is all that is left
  }
  auto stopped = uploads.get(f.user, made->id);
  REQUIRE(stopped);
  CHECK(stopped->status == "uploading");
  CHECK(stopped->bytes_sent > 0);
  CHECK(stopped->bytes_sent < stopped->total_bytes);
  CHECK(stopped->session_uri);
  CHECK_FALSE(stopped->video_id);
  CHECK(f.yt.read("videos")["videos"].empty());  // not complete, and not recorded so

  auto second = upload_worker::create(o);
  REQUIRE(second);
  REQUIRE(*(*second)->run_once());
  auto done = uploads.get(f.user, made->id);
  REQUIRE(done);
  INFO(done->error.value_or(""));
  CHECK(done->status == "complete");
  auto stats = f.yt.read("stats");
  CHECK(stats["sessions"] == 1);  // resumed, not started over
  CHECK(stats["status_queries"].get<int>() >= 1);
  auto videos = f.yt.read("videos");
  REQUIRE(videos["videos"].size() == 1);
  CHECK(videos["videos"][0]["sha256"] == reelfarm::testing::sha256_file(f.film));
}

TEST_CASE("a revoked refresh token fails the upload with a reconnect message",
          "[youtube][worker]") {
  fixture f;
  upload_repository uploads(f.pool);
  auto made = uploads.create(f.request());
  REQUIRE(made);
  f.yt.control("revoke_refresh_tokens");
  auto worker = upload_worker::create(f.worker_options());
  REQUIRE(worker);
  REQUIRE(*(*worker)->run_once());
  auto failed = uploads.get(f.user, made->id);
  REQUIRE(failed);
  CHECK(failed->status == "failed");
  CHECK_THAT(failed->error.value_or(""), Catch::Contains("connected again"));
  CHECK(f.yt.read("stats")["sessions"] == 0);
  CHECK(f.yt.read("videos")["videos"].empty());
}

TEST_CASE("refresh tokens are stored sealed", "[youtube][store]") {
  fixture f;
  pqxx::connection conn(f.db.dsn());
  pqxx::nontransaction tx(conn);
  auto stored =
      tx.exec_params1("SELECT refresh_token FROM youtube_channels WHERE user_id = $1", f.user)[0]
          .as<std::string>();
  CHECK(stored.starts_with("v1:"));
  CHECK(stored.find("1//") == std::string::npos);
}

TEST_CASE("a published upload is mirrored to Salesforce as YouTube_Integration__c",
          "[youtube][crm]") {
  fixture f;
  upload_repository uploads(f.pool);
  auto request = f.request();
  request.playlist_title = "Reelfarm films";
  auto made = uploads.create(request);
  REQUIRE(made);
  auto worker = upload_worker::create(f.worker_options());
  REQUIRE(worker);
  REQUIRE(*(*worker)->run_once());
  auto done = uploads.get(f.user, made->id);
  REQUIRE(done);
  REQUIRE(done->status == "complete");

  reelfarm::testing::local_salesforce sf;
  pqxx::connection conn(f.db.dsn());
  crm::salesforce_client client(sf.options());
  crm::outbox_drainer drainer(conn, client, sf.options());
  for (int i = 0; i < 20; ++i) {
    auto pass = drainer.drain_once();
    REQUIRE(pass);
    CHECK(pass->dead_lettered == 0);
    if (pass->claimed_rows == 0) {
      break;
    }
  }
  auto record = client.get("sobjects/YouTube_Integration__c/Farm_Id__c/" + made->id);
  REQUIRE(record);
  CHECK((*record)["Upload_Status__c"] == "Completed");
  CHECK((*record)["Video_ID__c"] == *done->video_id);
  CHECK((*record)["Playlist_ID__c"] == *done->playlist_id);
  CHECK((*record)["YouTube_URL__c"] == *done->youtube_url);
  CHECK((*record)["Thumbnail_URL__c"] == *done->thumbnail_url);
  auto diffs = reelfarm::testing::mirror_differences(f.db.dsn(), client);
  for (const auto& d : diffs) {
    UNSCOPED_INFO(d);
  }
  CHECK(diffs.empty());
}
