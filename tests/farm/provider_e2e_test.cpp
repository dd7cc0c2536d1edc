// A screenplay rendered with a mix of backends (animatic, ComfyUI,
// Replicate-style, RunPod) on three `reelfarm node` processes against the
// local providers, with provider failures that the farm retries on other
// nodes; the film is checked with ffprobe. Coordinator and render service run
// in-process against the test PostgreSQL, as in the actors tests.
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "local_provider.hpp"
#include "reelfarm/actors/render_service.hpp"
#include "reelfarm/actors/shot_plan.hpp"
#include "reelfarm/common/net.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/farm/coordinator/coordinator.hpp"
#include "reelfarm/screenplay/fountain.hpp"
#include "reelfarm/store/account_repository.hpp"
#include "reelfarm/store/credit_ledger.hpp"
#include "reelfarm/store/job_repository.hpp"
#include "reelfarm/testing/services.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace std::chrono_literals;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* key = "e2e-key-91c4";

constexpr const char* script = R"(Title: Harbour Lights

EXT. HARBOUR - DAWN

Gulls circle over the fishing boats. NOAH coils a rope.

NOAH
Storm's coming in by noon.

INT. BOATHOUSE - DAY

IRIS repairs a net by lamplight. NOAH watches.

IRIS
Then we sail at ten.

NOAH
You always say that.

EXT. OPEN SEA - NIGHT

The little boat rides the swell under a sky full of stars.
)";

std::vector<std::string> shot_ids() {
  auto doc = screenplay::parse_fountain(script);
  REQUIRE(doc);
  auto plan = screenplay::plan_screenplay(*doc, planner_settings{}, "p");
  REQUIRE(plan);
  std::vector<std::string> ids;
  for (const auto& s : actors::plan_shots(*plan, {}, actors::media_layout("/m", "u", "p"))) {
    ids.push_back(s.shot_id);
  }
  return ids;
}

child_process start_node(const fs::path& dir, farm::coordinator& coordinator, const fs::path& media,
                         const std::vector<std::string>& backends) {
  process_options po;
  // The join token travels in the environment, as `reelfarm render` sends it.
  po.extra_environment = {"REELFARM_JOIN_TOKEN=" + coordinator.create_join_token().value()};
  const auto& join = coordinator.endpoint();
  po.argv = {REELFARM_BINARY, "--log-level", "info",   "node", "--join",      join,
             "--slots",       "2",           "--gpus", "none", "--media-dir", media.string(),
             "--node-dir",    dir.string()};
  for (const auto& b : backends) {
    po.argv.push_back("--backend");
    po.argv.push_back(b);
  }
  fs::create_directories(dir);
  po.output_file = (dir / "node.log").string();
  auto child = child_process::spawn(po);
  REQUIRE(child);
  return std::move(child).value();
}

}  // namespace

TEST_CASE("a film rendered through three providers and the animatic, with provider faults") {
  testing::temp_dir dir;
  auto media = dir.path() / "media";
  reelfarm::testing::temp_dir vdir;
  auto mp4 = reelfarm::testing::tiny_mp4(vdir.path());
  reelfarm::testing::local_provider comfy("comfyui", "");
  reelfarm::testing::local_provider replicate("replicate", key, {"--mp4", mp4.string()});
  reelfarm::testing::local_provider runpod("runpod", key, {"--endpoint", "ep-film"});
  replicate.control("", {{"output", "mp4"}, {"run_s", 0.5}});
  runpod.control("", {{"output", "pngs"}});
  // Faults: each provider fails once; the farm must finish the shot elsewhere.
  comfy.control("", {{"fail_jobs", 1}});
  replicate.control("/faults", {{"method", "POST"}, {"path", "/v1/predictions"}, {"status", 503}});
  runpod.control("", {{"fail_jobs", 1}});

  // Keys reach the nodes through the environment, never the command line.
  ::setenv("REELFARM_PROVIDERS_REPLICATE_API_TOKEN", key, 1);
  ::setenv("REELFARM_PROVIDERS_RUNPOD_API_KEY", key, 1);

  testing::scratch_database db;
  pg_pool pool{db.dsn(), 4};
  job_repository jobs{pool};
  farm::coordinator_options co;
  co.bind = "tcp://127.0.0.1:*";  // the OS picks the port: never probed
  co.timing.heartbeat = 200ms;
  co.timing.ttl = 2000ms;
  auto c = farm::coordinator::create(co);
  REQUIRE(c);
  auto coordinator = std::move(c).value();
  std::atomic<bool> stop{false};
  std::thread loop([&] { coordinator->run([&] { return stop.load(); }); });
  std::vector<child_process> nodes;
  // Stops nodes and the coordinator however the test ends (a failed REQUIRE too).
  struct cleanup {
    std::vector<child_process>& nodes;
    std::atomic<bool>& stop;
    std::thread& loop;
    ~cleanup() {
      for (auto& n : nodes) {
        n.signal(SIGTERM);
        n.wait_for(10s);
      }
      stop = true;
      loop.join();
      ::unsetenv("REELFARM_PROVIDERS_REPLICATE_API_TOKEN");
      ::unsetenv("REELFARM_PROVIDERS_RUNPOD_API_KEY");
    }
  } guard{nodes, stop, loop};

  auto workflows = std::string(REELFARM_SOURCE_DIR) + "/tests/farm/workflows/";
  auto comfy_spec = "comfyui=" + comfy.url() + ",workflow=" + workflows +
                    "text_to_image_api.json,reference_workflow=" + workflows +
                    "reference_to_image_api.json,poll_ms=100";
  auto replicate_spec = "replicate=" + replicate.url() + ",model=acme/video,delay_scale=0.2";
  auto runpod_spec = "runpod=" + runpod.url() + ",endpoint=ep-film,poll_ms=100";
  nodes.push_back(start_node(dir.path() / "node-a", *coordinator, media, {"animatic", comfy_spec}));
  nodes.push_back(start_node(dir.path() / "node-b", *coordinator, media,
                             {comfy_spec, replicate_spec, runpod_spec}));
  nodes.push_back(start_node(dir.path() / "node-c", *coordinator, media,
                             {"animatic", replicate_spec, runpod_spec}));

  {
    actors::render_service_options ro{
        actors::job_context{&jobs, plan_catalog::defaults(), {}, media}, coordinator.get(),
        testing::test_services().redis_url};
    ro.shot_timeout = 90s;
    auto service = actors::render_service::create(std::move(ro));
    REQUIRE(service);

    account_repository accounts(pool, plan_catalog::defaults(), password_cost{1, 8 * 1024});
    auto user = accounts.create({"mix@test.io", "pw-123456", "T", "creator"});
    REQUIRE(user);
    credit_ledger ledger{pool, plan_catalog::defaults()};
    REQUIRE(ledger.change_plan(user->id, "pro", "to-pro"));

    // NOAH's reference image: an upload in the owner's folder.
    auto upload = media / "users" / user->id / "images" / "noah.png";
    fs::create_directories(upload.parent_path());
    {
      std::ofstream out(upload, std::ios::binary);
      out << std::ifstream(
                 std::string(REELFARM_SOURCE_DIR) + "/tests/farm/workflows/noah_reference.png",
                 std::ios::binary)
                 .rdbuf();
    }

    auto ids = shot_ids();
    REQUIRE(ids.size() >= 4);
    json settings = {
        {"resolution", "320x180"},
        {"fps", 12},
        {"backend", "comfyui"},
        {"characters", {{"NOAH", {{"image", "users/" + user->id + "/images/noah.png"}}}}}};
    settings["shots"][ids[1]] = {{"backend", "replicate"}};
    settings["shots"][ids[2]] = {{"backend", "runpod"}};
    settings["shots"][ids.back()] = {{"backend", "animatic"}};
    auto project = jobs.create_project(user->id, "Harbour Lights", script, settings.dump());
    REQUIRE(project);
    auto job = jobs.create(user->id, *project, "render", settings.dump());
    REQUIRE(job);
    REQUIRE((*service)->run(job->id));

    actors::job_view view;
    auto until = std::chrono::steady_clock::now() + 180s;
    while (std::chrono::steady_clock::now() < until) {
      auto v = (*service)->view(job->id);
      if (v && v->finished()) {
        view = *v;
        break;
      }
      std::this_thread::sleep_for(100ms);
    }
    INFO("job error: " << view.error);
    if (view.status != "complete") {
      for (const char* n : {"node-a", "node-b", "node-c"}) {
        std::ifstream log(dir.path() / n / "node.log");
        std::string text((std::istreambuf_iterator<char>(log)), {});
        WARN(n << " log:\n" << text.substr(text.size() > 6000 ? text.size() - 6000 : 0));
      }
    }
    REQUIRE(view.status == "complete");

    // The film: every shot, H.264 + AAC, as long as the shots together.
    fs::path film;
    for (const auto& e : fs::recursive_directory_iterator(media)) {
      film = e.path().filename() == "film.mp4" ? e.path() : film;
    }
    REQUIRE_FALSE(film.empty());
    auto probe = reelfarm::testing::ffprobe(film);
    REQUIRE(probe["streams"].size() == 2);
    CHECK(probe["streams"][0]["codec_name"] == "h264");
    CHECK(probe["streams"][0]["width"] == 320);
    CHECK(probe["streams"][1]["codec_name"] == "aac");
    double segments = 0;
    std::set<std::string> clips;
    for (const auto& e : fs::recursive_directory_iterator(media)) {
      if (e.path().parent_path().filename() == "video-clips" && e.path().extension() == ".mp4") {
        segments += std::stod(
            reelfarm::testing::ffprobe(e.path())["format"]["duration"].get<std::string>());
        clips.insert(e.path().filename().string());
      }
    }
    CHECK(clips.size() == ids.size());
    CHECK(std::stod(probe["format"]["duration"].get<std::string>()) ==
          Approx(segments).margin(0.1 * static_cast<double>(ids.size())));

    // Every provider made shots, after failing once.
    CHECK(comfy.stats()["counters"].value("success", 0) >= 1);
    CHECK(comfy.stats()["counters"].value("error", 0) == 1);
    CHECK(replicate.stats()["counters"].value("created", 0) >= 1);
    int refused = 0;
    for (const auto& r : replicate.requests()) {
      refused += r["path"] == "/v1/predictions" && r["status"] == 503 ? 1 : 0;
    }
    CHECK(refused == 1);  // the 503 lease failed and was granted again
    CHECK(runpod.stats()["counters"].value("created", 0) >= 2);
    // The reference image is stored once by content; each comfyui node
    // (a and b) uploads it to the server at most once.
    auto uploads = comfy.stats()["counters"].value("uploads", 0);
    CHECK(uploads >= 1);
    CHECK(uploads <= 2);
    std::size_t stored = 0;
    for (const auto& e : fs::directory_iterator(media / "references")) {
      stored += e.path().extension() == ".png" ? 1 : 0;
    }
    CHECK(stored == 1);
    // The key never reached a node's log or command line.
    for (const char* n : {"node-a", "node-b", "node-c"}) {
      auto log = std::ifstream(dir.path() / n / "node.log");
      std::string text((std::istreambuf_iterator<char>(log)), {});
      CHECK(text.find(key) == std::string::npos);
    }
  }
}
