// What a render node may report as a finished shot (issue #19): the checks
// the supervisor runs before it accepts a `done`, on real files.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "reelfarm/actors/job_control.hpp"
#include "reelfarm/actors/media_layout.hpp"
#include "reelfarm/actors/shot_plan.hpp"
#include "reelfarm/screenplay/fountain.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace reelfarm::actors;
namespace fs = std::filesystem;

namespace {

// SHA-256 of the four bytes "test" (docs/protocol.md's example), written out
// rather than computed with the code under test.
constexpr const char* test_checksum =
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

constexpr const char* sidecar_text =
    R"({"shot":"sc1-sh1","frames":8,"fps":8,"duration_s":1.0,"audio_samples":48000,"cues":[]})";

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.flush());
}

// Why a check refused, or "" when it passed.
template <class T>
std::string refusal(const result<T>& r) {
  return r ? std::string() : r.error().message();
}

struct media_env {
  testing::temp_dir dir;
  fs::path media = dir.path() / "media";
  media_layout layout{media, "u1", "p1"};
  std::string offered = layout.clip_rel("sc1-sh1", "0123456789abcdef0123").string();

  media_env() { write(media / offered, "test"); }
};

}  // namespace

TEST_CASE("a rendered shot is accepted at the offered path with the file's checksum",
          "[actors][artifact]") {
  media_env env;
  REQUIRE(check_artifact(env.layout, env.offered, env.offered, test_checksum));

  // The same bytes under the wrong checksum, or a checksum in another form.
  CHECK_THAT(refusal(check_artifact(env.layout, env.offered, env.offered,
                                    "sha256:" + std::string(64, '0'))),
             Catch::Contains("does not match"));
  CHECK_THAT(
      refusal(check_artifact(env.layout, env.offered, env.offered,
                             "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")),
      Catch::Contains("does not match"));
  // The file changed after the node hashed it.
  write(env.media / env.offered, "tesT");
  CHECK_THAT(refusal(check_artifact(env.layout, env.offered, env.offered, test_checksum)),
             Catch::Contains("does not match"));
}

TEST_CASE("an artifact anywhere but the offered output is refused", "[actors][artifact]") {
  media_env env;
  write(env.media.parent_path() / "x", "test");
  for (const auto& reported : std::vector<std::string>{
           "../x", "/etc/passwd", (env.media.parent_path() / "x").string(),
           "users/u1/projects/p1/video-clips/../../../../../x",
           // The offered name with a detour that leads back to it.
           "users/u1/projects/p1/video-clips/../video-clips/sc1-sh1-0123456789abcdef.mp4",
           "./" + env.offered, env.offered + "/", ""}) {
    INFO(reported);
    CHECK_THAT(refusal(check_artifact(env.layout, env.offered, reported, test_checksum)),
               Catch::Contains("is not the output the lease offered"));
  }
}

TEST_CASE("another user's clip is refused even with its right checksum", "[actors][artifact]") {
  media_env env;
  media_layout other(env.media, "u2", "p1");
  auto theirs = other.clip_rel("sc1-sh1", "0123456789abcdef0123").string();
  write(env.media / theirs, "test");
  REQUIRE(check_artifact(other, theirs, theirs, test_checksum));  // theirs to report, not ours

  CHECK_THAT(refusal(check_artifact(env.layout, env.offered, theirs, test_checksum)),
             Catch::Contains("is not the output the lease offered"));
  // A stored offer that names another job's folder is refused as well.
  CHECK_THAT(refusal(check_artifact(env.layout, theirs, theirs, test_checksum)),
             Catch::Contains("not in the job's video-clips folder"));
  for (const std::string offer : {"/etc/passwd", "../x.mp4", "users/u1/projects/p1/x.mp4"}) {
    INFO(offer);
    CHECK_FALSE(check_artifact(env.layout, offer, offer, test_checksum));
  }
  CHECK_FALSE(check_artifact(env.layout, "", "", test_checksum));
}

TEST_CASE("a missing artifact or one that is not a plain file is refused", "[actors][artifact]") {
  media_env env;
  auto missing = env.layout.clip_rel("sc1-sh2", "fedcba9876543210").string();
  CHECK_THAT(refusal(check_artifact(env.layout, missing, missing, test_checksum)),
             Catch::Contains("does not exist"));

  auto folder = env.layout.clip_rel("sc1-sh3", "fedcba9876543210").string();
  fs::create_directories(env.media / folder);
  CHECK_THAT(refusal(check_artifact(env.layout, folder, folder, test_checksum)),
             Catch::Contains("not a regular file"));

  // A node can plant links in the shared folder: to a file outside it with
  // the bytes it hashed...
  write(env.dir.path() / "outside" / "secret", "test");
  auto linked = env.layout.clip_rel("sc1-sh4", "fedcba9876543210").string();
  fs::create_symlink(env.dir.path() / "outside" / "secret", env.media / linked);
  CHECK_THAT(refusal(check_artifact(env.layout, linked, linked, test_checksum)),
             Catch::Contains("symbolic link"));
  // ...or in place of a folder on the way.
  media_layout other(env.media, "u1", "p2");
  fs::create_directories(env.media / other.project_rel());
  write(env.dir.path() / "outside" / "clips" / "sc1-sh1-0123456789abcdef.mp4", "test");
  fs::create_symlink(env.dir.path() / "outside" / "clips", env.media / other.clips_rel());
  auto through = other.clip_rel("sc1-sh1", "0123456789abcdef").string();
  REQUIRE(fs::exists(env.media / through));
  CHECK_THAT(refusal(check_artifact(other, through, through, test_checksum)),
             Catch::Contains("symbolic link"));
}

TEST_CASE("every output plan_shots offers passes the check once the file is there",
          "[actors][artifact]") {
  auto doc =
      screenplay::parse_fountain("INT. KITCHEN - DAY\n\nANNA stirs a pot.\n\nANNA\nReady.\n");
  REQUIRE(doc);
  auto plan = screenplay::plan_screenplay(*doc, planner_settings{}, "project-1");
  REQUIRE(plan);
  testing::temp_dir dir;
  media_layout layout(dir.path() / "media", "u1", "p1");
  auto shots = plan_shots(*plan, render_settings{}, layout);
  REQUIRE_FALSE(shots.empty());
  for (const auto& s : shots) {
    auto offered = lease_output(s.spec_json);
    INFO(s.shot_id << " " << offered);
    REQUIRE_FALSE(offered.empty());
    write(layout.absolute(offered), "test");
    CHECK(check_artifact(layout, offered, offered, test_checksum));
  }
}

TEST_CASE("the output of a lease spec is read from its \"output\" string", "[actors][artifact]") {
  CHECK(lease_output(R"({"shot":{},"output":"users/u/projects/p/video-clips/a.mp4"})") ==
        "users/u/projects/p/video-clips/a.mp4");
  CHECK(lease_output("{}").empty());
  CHECK(lease_output(R"({"output":7})").empty());
  CHECK(lease_output("not json").empty());
  CHECK(lease_output(R"(["output"])").empty());
}

TEST_CASE("media paths cannot leave the media folder", "[actors][artifact]") {
  testing::temp_dir dir;
  auto media = dir.path() / "media";
  auto inside = media_file(media, "users/u1/projects/p1/video-clips/a.mp4");
  REQUIRE(inside);
  CHECK(*inside == media / "users/u1/projects/p1/video-clips/a.mp4");
  for (const std::string rel : {"", "/etc/passwd", "../x", "a/../../x", "a/./b", "a/.."}) {
    INFO(rel);
    CHECK_FALSE(media_file(media, rel));
  }
  fs::create_directories(media / "real");
  fs::create_symlink(media / "real", media / "link");
  CHECK_THAT(refusal(media_file(media, "link/a.mp4")), Catch::Contains("symbolic link"));
  CHECK(media_file(media, "real/a.mp4"));
}

TEST_CASE("a segment sidecar is read only when it is a small, valid, plain file",
          "[actors][artifact]") {
  media_env env;
  write(env.media / (env.offered + ".json"), sidecar_text);
  auto read = read_segment_sidecar(env.media, env.offered);
  REQUIRE(read);
  CHECK(*read == sidecar_text);

  auto other = env.layout.clip_rel("sc1-sh2", "fedcba9876543210").string();
  CHECK_THAT(refusal(read_segment_sidecar(env.media, other)),
             Catch::Contains("no segment sidecar"));

  // Not a sidecar: refused without repeating what the node wrote.
  write(env.media / (other + ".json"), "private words {");
  auto bad = read_segment_sidecar(env.media, other);
  CHECK_FALSE(bad);
  CHECK_THAT(refusal(bad), !Catch::Contains("private words"));

  write(env.media / (other + ".json"), std::string((1U << 20U) + 1, ' '));
  CHECK_THAT(refusal(read_segment_sidecar(env.media, other)), Catch::Contains("too large"));

  write(env.dir.path() / "elsewhere.json", sidecar_text);
  fs::remove(env.media / (other + ".json"));
  fs::create_symlink(env.dir.path() / "elsewhere.json", env.media / (other + ".json"));
  CHECK_THAT(refusal(read_segment_sidecar(env.media, other)), Catch::Contains("symbolic link"));

  CHECK_FALSE(read_segment_sidecar(env.media, "../x"));
}
