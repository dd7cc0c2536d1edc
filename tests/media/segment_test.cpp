#include <catch2/catch.hpp>

#include "media_test_helpers.hpp"
#include "reelfarm/media/checksum.hpp"
#include "reelfarm/media/errc.hpp"
#include "reelfarm/media/shot_renderer.hpp"

using namespace reelfarm;
using namespace reelfarm::media;

namespace {

shot_renderer make_renderer(const std::string& speech = "/usr/bin/espeak-ng") {
  render_options options;
  options.speech = speech_engine(speech);
  auto r = shot_renderer::create(std::move(options));
  REQUIRE(r);
  return std::move(*r);
}

// Streams and durations as the issue asks: H.264 yuv420p + AAC 48 kHz, each
// duration within one frame of the plan, audio within one frame of video.
void check_segment(const std::filesystem::path& file, const segment_info& info,
                   const shot_spec& spec) {
  auto p = mtest::probe(file);
  auto video = mtest::stream_of(p, "video");
  auto audio = mtest::stream_of(p, "audio");
  REQUIRE(video.is_object());
  REQUIRE(audio.is_object());
  CHECK(video["codec_name"] == "h264");
  CHECK(video["pix_fmt"] == "yuv420p");
  CHECK(video["profile"] == "High");
  CHECK(video["width"] == spec.width);
  CHECK(video["height"] == spec.height);
  CHECK(video["avg_frame_rate"] == std::to_string(spec.fps) + "/1");
  CHECK(audio["codec_name"] == "aac");
  CHECK(audio["sample_rate"] == "48000");
  CHECK(audio["channels"] == 1);
  double frame = 1.0 / spec.fps;
  double v = mtest::seconds(video["duration"]);
  double a = mtest::seconds(audio["duration"]);
  CHECK(std::stoll(video["nb_frames"].get<std::string>()) == info.frames);
  CHECK(std::abs(v - info.duration_s) < frame);
  CHECK(std::abs(a - v) < frame);
  CHECK(std::abs(mtest::seconds(p["format"]["duration"]) - info.duration_s) < frame);
}

}  // namespace

TEST_CASE("a dialogue shot renders to a segment with the planned streams", "[media][segment]") {
  reelfarm::testing::temp_dir dir;
  auto renderer = make_renderer();
  auto spec = mtest::small_shot("talk");
  auto info = renderer.render(spec, dir.path() / "talk.mp4");
  REQUIRE(info);
  CHECK(info->warnings.empty());
  CHECK(info->duration_s >= spec.duration_s);
  check_segment(dir.path() / "talk.mp4", *info, spec);
  REQUIRE(info->cues.size() == 1);
  CHECK(info->cues[0].speaker == "ANNA");
  CHECK(info->cues[0].start_s > 0);
  CHECK(info->cues[0].end_s <= info->duration_s);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "talk.mp4.part"));
}

TEST_CASE("a shot lasts as long as its speech", "[media][segment]") {
  reelfarm::testing::temp_dir dir;
  auto renderer = make_renderer();
  auto spec = mtest::small_shot("long");
  spec.duration_s = 0.5;
  spec.dialogue = {{"ANNA", "This line takes clearly longer than half a second to say.", ""},
                   {"BEN", "So does mine.", "dry"}};
  auto info = renderer.render(spec, dir.path() / "long.mp4");
  REQUIRE(info);
  REQUIRE(info->cues.size() == 2);
  CHECK(info->cues[0].end_s - info->cues[0].start_s > 1.5);
  CHECK(info->cues[1].start_s >= info->cues[0].end_s);
  CHECK(info->duration_s >= info->cues[1].end_s);
  check_segment(dir.path() / "long.mp4", *info, spec);
}

TEST_CASE("the same shot renders the same bytes, at 1280x720", "[media][segment]") {
  reelfarm::testing::temp_dir dir;
  auto renderer = make_renderer();
  auto spec = mtest::small_shot("hd", shot_kind::establishing);
  spec.width = 1280;
  spec.height = 720;
  spec.watermark = true;
  auto first = renderer.render(spec, dir.path() / "a.mp4");
  auto second = make_renderer().render(spec, dir.path() / "b.mp4");
  REQUIRE(first);
  REQUIRE(second);
  check_segment(dir.path() / "a.mp4", *first, spec);
  auto a = sha256_file(dir.path() / "a.mp4");
  auto b = sha256_file(dir.path() / "b.mp4");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a == *b);
}

TEST_CASE("a shot renders the same bytes whatever the renderer drew before", "[media][segment]") {
  // A render node keeps its renderer from shot to shot, and which shots a
  // node gets differs from run to run: nothing of an earlier shot may show.
  reelfarm::testing::temp_dir dir;
  auto spec = mtest::small_shot("after");
  spec.dialogue = {{"ANNA", "Storm's coming in by noon, Ben.", ""}};
  auto fresh = make_renderer().render(spec, dir.path() / "fresh.mp4");
  REQUIRE(fresh);
  auto used = make_renderer();
  auto before = mtest::small_shot("before", shot_kind::establishing);
  before.width = 1280;
  before.height = 720;
  before.heading = "EXT. OPEN SEA - NIGHT";
  before.action =
      "The little boat rides the swell under a sky full of stars, WAVES and 0123456789.";
  REQUIRE(used.render(before, dir.path() / "before.mp4"));
  auto later = used.render(spec, dir.path() / "later.mp4");
  REQUIRE(later);
  auto a = sha256_file(dir.path() / "fresh.mp4");
  auto b = sha256_file(dir.path() / "later.mp4");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a == *b);
}

TEST_CASE("without a speech engine the shot still renders, silent, with a warning",
          "[media][segment]") {
  reelfarm::testing::temp_dir dir;
  auto renderer = make_renderer("/nonexistent/espeak-ng");
  auto spec = mtest::small_shot("mute");
  auto info = renderer.render(spec, dir.path() / "mute.mp4");
  REQUIRE(info);
  REQUIRE(info->warnings.size() == 1);
  CHECK_THAT(info->warnings[0], Catch::Contains("no speech engine"));
  REQUIRE(info->cues.size() == 1);
  CHECK(info->cues[0].end_s > info->cues[0].start_s);
  check_segment(dir.path() / "mute.mp4", *info, spec);
}

TEST_CASE("an invalid spec is refused before anything is written", "[media][segment]") {
  reelfarm::testing::temp_dir dir;
  auto renderer = make_renderer();
  auto spec = mtest::small_shot("bad");
  spec.fps = 1000;
  auto info = renderer.render(spec, dir.path() / "bad.mp4");
  REQUIRE_FALSE(info);
  CHECK(info.error().is(media_errc::invalid_spec));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "bad.mp4"));
}

TEST_CASE("a missing font is a clear error", "[media][segment]") {
  render_options options;
  options.font_dir = "/nonexistent/fonts";
  auto r = shot_renderer::create(std::move(options));
  REQUIRE_FALSE(r);
  CHECK(r.error().is(media_errc::font));
  CHECK_THAT(r.error().message(), Catch::Contains("/nonexistent/fonts"));
}

TEST_CASE("a character looks the same in different shots", "[media][segment]") {
  auto renderer = make_renderer();
  auto one = mtest::small_shot("one", shot_kind::dialogue);
  one.characters.resize(1);
  one.dialogue.clear();
  one.action.clear();
  auto two = one;
  two.id = "two";  // same framing, another shot: the slate differs, the figure must not
  auto a = renderer.still(one, 0);
  auto b = renderer.still(two, 0);
  REQUIRE(a);
  REQUIRE(b);
  // Compare the upper half of the frame (the figure's head and torso; the slate is at the bottom).
  std::size_t half = a->size() / 2;
  CHECK(std::equal(a->begin(), a->begin() + static_cast<std::ptrdiff_t>(half), b->begin()));
  auto other = one;
  other.characters[0].seed = 999;
  other.characters[0].palette.clear();
  auto c = renderer.still(other, 0);
  REQUIRE(c);
  CHECK_FALSE(std::equal(a->begin(), a->begin() + static_cast<std::ptrdiff_t>(half), c->begin()));
}
