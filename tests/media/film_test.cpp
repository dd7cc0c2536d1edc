#include <catch2/catch.hpp>

#include "media_test_helpers.hpp"
#include "reelfarm/media/checksum.hpp"
#include "reelfarm/media/errc.hpp"
#include "reelfarm/media/film_renderer.hpp"
#include "reelfarm/media/joiner.hpp"

using namespace reelfarm;
using namespace reelfarm::media;

namespace {

film_spec small_film() {
  film_spec film;
  film.title = "Coffee";
  auto a = mtest::small_shot("s1", shot_kind::establishing);
  a.dialogue.clear();
  auto b = mtest::small_shot("s2", shot_kind::dialogue);
  b.dialogue = {{"ANNA", "Coffee?", ""}, {"BEN", "Please.", ""}};
  auto c = mtest::small_shot("s3", shot_kind::action);
  c.dialogue.clear();
  c.duration_s = 0.75;
  auto d = mtest::small_shot("s4", shot_kind::two_shot);
  d.dialogue = {{"BEN", "Thanks.", ""}};
  film.scenes = {scene_spec{"scene-1", {a, b}}, scene_spec{"scene-2", {c, d}}};
  return film;
}

}  // namespace

TEST_CASE("a film is assembled by stream copy with subtitles, thumbnail and manifest",
          "[media][film]") {
  reelfarm::testing::temp_dir dir;
  auto film = render_film(small_film(), dir.path() / "out", render_options{});
  REQUIRE(film);
  REQUIRE(film->shots.size() == 4);
  double planned = 0;
  std::int64_t frames = 0;
  for (const auto& shot : film->shots) {
    CHECK(std::abs(shot.start_s - planned) < 1e-6);
    planned += shot.segment.duration_s;
    frames += shot.segment.frames;
  }
  const double frame = 1.0 / 24;
  auto p = mtest::probe(film->film);
  auto video = mtest::stream_of(p, "video");
  auto audio = mtest::stream_of(p, "audio");
  REQUIRE(video.is_object());
  REQUIRE(audio.is_object());
  CHECK(video["codec_name"] == "h264");
  CHECK(audio["codec_name"] == "aac");
  CHECK(std::stoll(video["nb_frames"].get<std::string>()) == frames);
  CHECK(std::abs(mtest::seconds(video["duration"]) - planned) < frame);
  CHECK(std::abs(mtest::seconds(audio["duration"]) - planned) < frame);
  CHECK(std::abs(mtest::seconds(p["format"]["duration"]) - planned) < frame);

  // The audio runs on without gaps or overlaps across shot boundaries (lip sync holds).
  auto pts = mtest::audio_packet_pts(film->film);
  REQUIRE(pts.size() > 10);
  CHECK(pts[0] == -1024);
  for (std::size_t i = 1; i < pts.size(); ++i) {
    INFO("audio packet " << i);
    CHECK(pts[i] == pts[i - 1] + 1024);
  }

  // Every cue lies inside its shot.
  REQUIRE(film->cues.size() == 3);
  for (const auto& shot : film->shots) {
    for (const auto& c : shot.segment.cues) {
      CHECK(c.start_s >= 0);
      CHECK(c.end_s <= shot.segment.duration_s + 1e-9);
    }
  }
  CHECK(film->cues[0].start_s >= film->shots[1].start_s);
  CHECK(film->cues[2].start_s >= film->shots[3].start_s);
  CHECK(film->cues[2].end_s <= film->shots[3].start_s + film->shots[3].segment.duration_s + 1e-9);
  auto srt = read_file(film->srt);
  REQUIRE(srt);
  CHECK_THAT(*srt, Catch::StartsWith("1\n00:00:0") && Catch::Contains("ANNA: Coffee?"));
  auto vtt = read_file(film->vtt);
  REQUIRE(vtt);
  CHECK_THAT(*vtt, Catch::StartsWith("WEBVTT\n") && Catch::Contains("<v BEN>Please."));

  auto thumb = mtest::stream_of(mtest::probe(film->thumbnail), "video");
  REQUIRE(thumb.is_object());
  CHECK(thumb["width"] == 1280);
  CHECK(thumb["height"] == 720);
  CHECK(thumb["codec_name"] == "mjpeg");

  auto manifest = nlohmann::json::parse(*read_file(film->manifest));
  CHECK(manifest["film"]["sha256"] == *sha256_file(film->film));
  CHECK(manifest["scenes"].size() == 2);
  CHECK(manifest["scenes"][1]["shots"][1]["id"] == "s4");
  CHECK(manifest["scenes"][0]["shots"][1]["file"]["sha256"] ==
        *sha256_file(film->shots[1].segment.file));
  CHECK(manifest["thumbnail"]["file"] == "thumbnail.jpg");
  CHECK(std::abs(manifest["duration_s"].get<double>() - planned) < 1e-6);
}

TEST_CASE("every segment and scene of a film joins without re-encoding", "[media][film]") {
  reelfarm::testing::temp_dir dir;
  auto film = render_film(small_film(), dir.path(), render_options{});
  REQUIRE(film);
  auto first = mtest::stream_of(mtest::probe(film->shots[0].segment.file), "video");
  auto joined = mtest::stream_of(mtest::probe(film->film), "video");
  // Same codec parameters: the film's stream is the segments' stream, copied.
  for (const char* key : {"codec_name", "profile", "width", "height", "pix_fmt", "level",
                          "time_base", "r_frame_rate"}) {
    CHECK(first[key] == joined[key]);
  }
  for (const auto& scene : film->scene_files) {
    auto p = mtest::probe(scene);
    CHECK(std::abs(mtest::seconds(mtest::stream_of(p, "audio")["duration"]) -
                   mtest::seconds(mtest::stream_of(p, "video")["duration"])) < 1.0 / 24);
  }
}

TEST_CASE("segments with different parameters are not joined", "[media][film]") {
  reelfarm::testing::temp_dir dir;
  auto renderer = shot_renderer::create(render_options{});
  REQUIRE(renderer);
  auto a = mtest::small_shot("a");
  auto b = mtest::small_shot("b");
  b.width = 640;
  b.height = 360;
  REQUIRE(renderer->render(a, dir.path() / "a.mp4"));
  REQUIRE(renderer->render(b, dir.path() / "b.mp4"));
  auto joined = join_segments({dir.path() / "a.mp4", dir.path() / "b.mp4"}, dir.path() / "ab.mp4");
  REQUIRE_FALSE(joined);
  CHECK(joined.error().is(media_errc::mismatch));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "ab.mp4"));
}

TEST_CASE("joining a file that is not a video is an error", "[media][film]") {
  reelfarm::testing::temp_dir dir;
  REQUIRE(write_file_atomically(dir.path() / "junk.mp4", "not a video", 0644));
  auto joined = join_segments({dir.path() / "junk.mp4"}, dir.path() / "out.mp4");
  REQUIRE_FALSE(joined);
  CHECK(joined.error().is(media_errc::decode));
}
