// The HTTP generation backends against the local providers
// (tests/farm/local_providers): real libcurl, real HTTP, the vendors' shapes,
// faults on demand. Each output is encoded into a segment and checked with
// ffprobe. Delays are scaled down (delay_scale) so backoff stays testable.
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "local_provider.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/node/comfyui_backend.hpp"
#include "reelfarm/farm/node/exec_backend.hpp"
#include "reelfarm/farm/node/provider_spec.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace reelfarm::farm;
using namespace std::chrono_literals;
using json = nlohmann::json;
using reelfarm::testing::local_provider;

namespace {

constexpr const char* key = "test-key-5bd1";

std::string workflow(const std::string& name) {
  return std::string(REELFARM_SOURCE_DIR) + "/tests/farm/workflows/" + name;
}

// A 320x180 PNG reference image stored content-addressed in the media folder.
json store_reference(const std::filesystem::path& media) {
  // 1x1 PNG is enough for the provider; the node only moves its bytes.
  static const unsigned char png[] = {
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
      0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
      0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08,
      0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d,
      0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
  auto tmp = media / "upload.png";
  std::filesystem::create_directories(media / "references");
  std::ofstream(tmp, std::ios::binary).write(reinterpret_cast<const char*>(png), sizeof png);
  auto hex = sha256_file(tmp.string())->substr(7);
  auto rel = "references/" + hex + ".png";
  std::filesystem::rename(tmp, media / rel);
  return json::array({{{"name", "MARA"}, {"image", rel}, {"sha256", hex}}});
}

json shot(const std::string& id, double duration = 1.0) {
  return {{"id", id},
          {"kind", "action"},
          {"duration", duration},
          {"width", 320},
          {"height", 180},
          {"fps", 12},
          {"location", {{"name", "INT. LIGHTHOUSE - NIGHT"}, {"seed", 12}}},
          {"characters", json::array({{{"name", "MARA"}, {"seed", 1701}}})},
          {"heading", "INT. LIGHTHOUSE - NIGHT"},
          {"action", "Mara climbs the stairs."}};
}

struct harness {
  reelfarm::testing::temp_dir dir;
  std::filesystem::path media = dir.path() / "media";
  std::unique_ptr<render_backend> backend;
  std::uint64_t next_lease = 1;

  harness(const std::string& spec, const std::string& api_key = key) {
    provider_credentials creds;
    creds.keys = {{"comfyui", api_key}, {"replicate", api_key}, {"runpod", api_key}};
    auto settings = parse_provider_spec(spec, creds);
    REQUIRE(settings);
    settings->media_dir = media;
    settings->cache_dir = dir.path() / "cache";
    auto made = make_provider_backend(std::move(settings).value());
    REQUIRE(made);
    backend = std::move(made).value();
  }

  render_job job(const json& spec) {
    render_job j;
    j.offer.lease = next_lease++;
    j.offer.shot = "job1/" + spec["shot"]["id"].get<std::string>();
    j.offer.job = "job1";
    j.offer.backend = backend->name();
    j.offer.spec = spec.dump();
    j.work_dir = dir.path() / "leases" / std::to_string(j.offer.lease);
    std::filesystem::create_directories(j.work_dir);
    return j;
  }

  result<render_output> render(const json& spec, std::atomic<bool>* cancel = nullptr,
                               std::vector<int>* percents = nullptr) {
    std::atomic<bool> never{false};
    auto j = job(spec);
    if (auto p = backend->prepare(j); !p) {
      return p.error();
    }
    return backend->run(
        j,
        [&](int pct, const std::string&) {
          if (percents != nullptr) {
            percents->push_back(pct);
          }
        },
        cancel != nullptr ? *cancel : never);
  }
};

json spec_of(const std::string& id, const json& refs = nullptr, double duration = 1.0) {
  json s = {{"shot", shot(id, duration)}, {"output", "clips/" + id + ".mp4"}};
  if (!refs.is_null()) {
    s["references"] = refs;
  }
  return s;
}

// The segment is H.264 + AAC at the shot's size and planned length.
void check_segment(const std::filesystem::path& file, double seconds) {
  auto probe = reelfarm::testing::ffprobe(file);
  REQUIRE(probe.contains("streams"));
  REQUIRE(probe["streams"].size() == 2);
  CHECK(probe["streams"][0]["codec_name"] == "h264");
  CHECK(probe["streams"][0]["width"] == 320);
  CHECK(probe["streams"][0]["height"] == 180);
  CHECK(probe["streams"][1]["codec_name"] == "aac");
  CHECK(std::stod(probe["format"]["duration"].get<std::string>()) == Approx(seconds).margin(0.1));
  auto sidecar = file;
  sidecar += ".json";
  CHECK(std::filesystem::exists(sidecar));
}

int count_requests(const local_provider& p, const std::string& method, const std::string& prefix) {
  int n = 0;
  for (const auto& r : p.requests()) {
    n += r["method"] == method && r["path"].get<std::string>().starts_with(prefix) ? 1 : 0;
  }
  return n;
}

// Runs `h.render` on a thread and cancels it once the provider runs the job.
result<render_output> render_and_cancel(harness& h, const json& spec, local_provider& p) {
  std::atomic<bool> cancel{false};
  auto f = std::async(std::launch::async, [&] { return h.render(spec, &cancel); });
  for (int i = 0; i < 200; ++i) {
    auto jobs = p.stats()["jobs"];
    if (!jobs.empty()) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(300ms);
  cancel = true;
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

}  // namespace

TEST_CASE("comfyui fills the workflow's placeholders with typed values") {
  generation_request r;
  r.shot_id = "sc1-sh1";
  r.prompt = "a \"quoted\" prompt";
  r.seed = 1701;
  r.width = 640;
  r.height = 360;
  r.frames = 48;
  r.fps = 24;
  auto text = read_file(workflow("reference_to_image_api.json"));
  REQUIRE(text);
  auto filled = comfyui_backend::fill_workflow(*text, r, "abc.png");
  REQUIRE(filled);
  auto doc = json::parse(*filled);
  CHECK(doc["3"]["inputs"]["seed"] == 1701);
  CHECK(doc["5"]["inputs"]["width"] == 640);
  CHECK(doc["5"]["inputs"]["height"] == 360);
  CHECK(doc["6"]["inputs"]["text"] == "a \"quoted\" prompt, 48 frames at 24 fps");
  CHECK(doc["10"]["inputs"]["image"] == "abc.png");
  auto missing = comfyui_backend::fill_workflow(*text, r, "");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message(), Catch::Contains("reference_image"));
}

TEST_CASE("provider specs: keys never on the command line, URLs from config") {
  provider_credentials creds;
  creds.urls["replicate"] = "http://127.0.0.1:9/";
  creds.keys["replicate"] = "secret";
  auto s = parse_provider_spec("replicate,model=acme/video", creds);
  REQUIRE(s);
  CHECK(s->url == "http://127.0.0.1:9");
  CHECK(s->api_key == "secret");
  CHECK(s->name == "replicate");
  auto bad = parse_provider_spec("replicate=http://x,model=a/b,api_key=oops", creds);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message(), Catch::Contains("never from the command line"));
  CHECK_FALSE(parse_provider_spec("runpod", {}));
  CHECK_FALSE(make_provider_backend(*parse_provider_spec("runpod=http://x", {})));
  auto named =
      parse_provider_spec("comfyui=http://h:8188,workflow=/w.json,name=comfy-xl,deadline=60", {});
  REQUIRE(named);
  CHECK(named->name == "comfy-xl");
  CHECK(named->deadline == 60s);
}

TEST_CASE("comfyui renders shots, uploads a character's reference once, reports node errors") {
  local_provider p("comfyui", "");
  harness h("comfyui=" + p.url() + ",workflow=" + workflow("reference_to_image_api.json") +
            ",poll_ms=50");
  auto refs = store_reference(h.media);
  std::vector<int> percents;
  auto out = h.render(spec_of("sc1-sh1", refs), nullptr, &percents);
  REQUIRE(out);
  CHECK(out->artifact == "clips/sc1-sh1.mp4");
  CHECK(out->checksum.starts_with("sha256:"));
  CHECK_FALSE(out->provider_job.empty());
  CHECK(percents.back() == 100);
  check_segment(h.media / out->artifact, 1.0);
  auto again = h.render(spec_of("sc1-sh2", refs));
  REQUIRE(again);
  CHECK(p.stats()["counters"]["uploads"] == 1);
  CHECK(count_requests(p, "GET", "/view?filename=reelfarm_") == 2);
  CHECK(std::filesystem::exists(h.dir.path() / "cache" /
                                (refs[0]["sha256"].get<std::string>() + ".png")));

  SECTION("node_errors are quoted") {
    reelfarm::testing::temp_dir wdir;
    auto wf = json::parse(*read_file(workflow("text_to_image_api.json")));
    wf["4"]["inputs"]["ckpt_name"] = "missing.safetensors";
    auto file = wdir.path() / "bad.json";
    std::ofstream(file) << wf.dump();
    harness bad("comfyui=" + p.url() + ",workflow=" + file.string() + ",poll_ms=50");
    auto failed = bad.render(spec_of("sc1-sh3"));
    REQUIRE_FALSE(failed);
    CHECK_THAT(failed.error().message(), Catch::Contains("Prompt outputs failed validation"));
    CHECK_THAT(failed.error().message(), Catch::Contains("node 4 (CheckpointLoaderSimple)"));
    CHECK_THAT(failed.error().message(), Catch::Contains("missing.safetensors"));
  }
}

TEST_CASE("comfyui: a failure mid-job, a cancel, and an MP4 output") {
  reelfarm::testing::temp_dir vdir;
  local_provider p("comfyui", "", {"--mp4", reelfarm::testing::tiny_mp4(vdir.path()).string()});
  harness h("comfyui=" + p.url() + ",workflow=" + workflow("text_to_image_api.json") +
            ",poll_ms=50");

  SECTION("execution_error fails the lease, retryable") {
    p.control("", {{"fail_jobs", 1}});
    auto out = h.render(spec_of("sc2-sh1"));
    REQUIRE_FALSE(out);
    CHECK_FALSE(out.error().is(farm_errc::invalid_argument));
    CHECK_THAT(out.error().message(), Catch::Contains("KSampler"));
    CHECK_THAT(out.error().message(), Catch::Contains("CUDA out of memory"));
  }
  SECTION("cancel interrupts the running prompt and deletes it from the queue") {
    p.control("", {{"run_s", 5}});
    auto out = render_and_cancel(h, spec_of("sc2-sh2"), p);
    REQUIRE_FALSE(out);
    CHECK(out.error().message() == "cancelled");
    CHECK(count_requests(p, "POST", "/interrupt") == 1);
    CHECK(count_requests(p, "POST", "/queue") == 1);
    CHECK_FALSE(p.stats()["counters"].contains("deleted"));  // running: interrupted, not dequeued
  }
  SECTION("a video output is decoded and fitted to the shot") {
    p.control("", {{"output", "mp4"}});
    auto out = h.render(spec_of("sc2-sh3", nullptr, 1.5));
    REQUIRE(out);
    check_segment(h.media / out->artifact, 1.5);
  }
}

TEST_CASE("replicate: predictions with backoff, billed time, download retries") {
  reelfarm::testing::temp_dir vdir;
  local_provider p("replicate", key, {"--mp4", reelfarm::testing::tiny_mp4(vdir.path()).string()});
  harness h("replicate=" + p.url() + ",model=acme/video-model,delay_scale=0.1");
  auto refs = store_reference(h.media);

  SECTION("success: an MP4 output, the reference as a data URI, capped exponential polling") {
    p.control("", {{"output", "mp4"}, {"run_s", 1.2}});
    auto out = h.render(spec_of("sc3-sh1", refs, 2.0));
    REQUIRE(out);
    check_segment(h.media / out->artifact, 2.0);
    CHECK(out->billed_s > 0);
    // Poll gaps: 100, 200, 400, 500, 500 ms (1 s doubling to 5 s, scaled by 0.1).
    std::vector<double> times;
    for (const auto& r : p.requests()) {
      if (r["method"] == "GET" && r["path"].get<std::string>().starts_with("/v1/predictions/")) {
        times.push_back(r["t"].get<double>());
      }
    }
    REQUIRE(times.size() >= 4);
    for (std::size_t i = 2; i < times.size(); ++i) {
      CHECK(times[i] - times[i - 1] >= (times[i - 1] - times[i - 2]) * 0.8);
      CHECK(times[i] - times[i - 1] < 0.75);
    }
    for (const auto& r : p.requests()) {
      if (r["path"].get<std::string>().starts_with("/v1/")) {
        CHECK(r["authorization"] == true);
      }
    }
  }
  SECTION("download is retried after 5xx") {
    p.control("/faults", {{"method", "GET"}, {"path", "/files/"}, {"status", 503}, {"count", 2}});
    auto out = h.render(spec_of("sc3-sh2"));
    REQUIRE(out);
    CHECK(count_requests(p, "GET", "/files/") == 3);
  }
  SECTION("no credit: 402") {
    p.control("", {{"credit", false}});
    auto out = h.render(spec_of("sc3-sh3"));
    REQUIRE_FALSE(out);
    CHECK_THAT(out.error().message(), Catch::Contains("no credit"));
  }
  SECTION("bad key: 401") {
    harness wrong("replicate=" + p.url() + ",model=acme/video-model", "wrong-key");
    auto out = wrong.render(spec_of("sc3-sh4"));
    REQUIRE_FALSE(out);
    CHECK_THAT(out.error().message(), Catch::Contains("API key was refused"));
  }
  SECTION("an expired prediction: 404 while polling") {
    p.control("", {{"run_s", 3}});
    auto f = std::async(std::launch::async, [&] { return h.render(spec_of("sc3-sh5")); });
    std::this_thread::sleep_for(400ms);
    p.control("", {{"expire", true}});
    auto out = f.get();
    REQUIRE_FALSE(out);
    CHECK_THAT(out.error().message(), Catch::Contains("not found or expired"));
  }
  SECTION("failure mid-prediction and cancel") {
    p.control("", {{"fail_jobs", 1}});
    auto failed = h.render(spec_of("sc3-sh6"));
    REQUIRE_FALSE(failed);
    CHECK_THAT(failed.error().message(), Catch::Contains("injected failure"));
    p.control("", {{"run_s", 5}});
    auto out = render_and_cancel(h, spec_of("sc3-sh7"), p);
    REQUIRE_FALSE(out);
    CHECK(count_requests(p, "POST", "/v1/predictions/") == 1);  // .../cancel
    CHECK(p.stats()["counters"]["cancelled"] == 1);
  }
  SECTION("a shot past its deadline is cancelled at the provider") {
    harness quick("replicate=" + p.url() + ",model=acme/video-model,deadline=1,delay_scale=0.1");
    p.control("", {{"run_s", 5}});
    auto out = quick.render(spec_of("sc3-sh9"));
    REQUIRE_FALSE(out);
    CHECK(out.error().is(farm_errc::timeout));
    CHECK_THAT(out.error().message(), Catch::Contains("deadline of 1 s"));
    CHECK(p.stats()["counters"]["cancelled"] == 1);
  }
  SECTION("a 5xx on create fails the lease (retryable)") {
    p.control("/faults", {{"method", "POST"}, {"path", "/v1/predictions"}, {"status", 500}});
    auto out = h.render(spec_of("sc3-sh8"));
    REQUIRE_FALSE(out);
    CHECK_FALSE(out.error().is(farm_errc::invalid_argument));
    CHECK_THAT(out.error().message(), Catch::Contains("HTTP 500"));
  }
}

TEST_CASE("runpod: run, status, cancel, failures") {
  local_provider p("runpod", key, {"--endpoint", "ep-video"});
  harness h("runpod=" + p.url() + ",endpoint=ep-video,poll_ms=50,deadline=60");
  auto refs = store_reference(h.media);

  SECTION("base64 images become a slide show") {
    p.control("", {{"output", "pngs"}});
    auto out = h.render(spec_of("sc4-sh1", refs, 1.5));
    REQUIRE(out);
    check_segment(h.media / out->artifact, 1.5);
    CHECK(out->billed_s > 0);
  }
  SECTION("FAILED mid-job") {
    p.control("", {{"fail_jobs", 1}});
    auto out = h.render(spec_of("sc4-sh2"));
    REQUIRE_FALSE(out);
    CHECK_THAT(out.error().message(), Catch::Contains("injected failure mid-job"));
  }
  SECTION("TIMED_OUT: the job outlived its execution timeout") {
    p.control("", {{"timeout_jobs", 1}});
    auto out = h.render(spec_of("sc4-sh8"));
    REQUIRE_FALSE(out);
    CHECK_THAT(out.error().message(), Catch::Contains("execution timeout"));
    bool sent_policy = false;
    for (const auto& r : p.requests()) {
      sent_policy = sent_policy || r["path"] == "/v2/ep-video/run";
    }
    CHECK(sent_policy);
  }
  SECTION("a provider-side cancel") {
    p.control("", {{"cancel_jobs", 1}});
    auto out = h.render(spec_of("sc4-sh3"));
    REQUIRE_FALSE(out);
    CHECK_THAT(out.error().message(), Catch::Contains("cancelled by the provider"));
  }
  SECTION("cancel") {
    p.control("", {{"run_s", 5}});
    auto out = render_and_cancel(h, spec_of("sc4-sh4"), p);
    REQUIRE_FALSE(out);
    CHECK(count_requests(p, "POST", "/v2/ep-video/cancel/") == 1);
  }
  SECTION("5xx while polling is retried") {
    p.control("", {{"run_s", 0.6}});
    p.control("/faults",
              {{"method", "GET"}, {"path", "/v2/ep-video/status/"}, {"status", 502}, {"count", 3}});
    auto out = h.render(spec_of("sc4-sh5"));
    REQUIRE(out);
  }
  SECTION("an unknown endpoint and a wrong key") {
    harness other("runpod=" + p.url() + ",endpoint=nope");
    auto out = other.render(spec_of("sc4-sh6"));
    REQUIRE_FALSE(out);
    CHECK_THAT(out.error().message(), Catch::Contains("404"));
    harness wrong("runpod=" + p.url() + ",endpoint=ep-video", "bad");
    auto refused = wrong.render(spec_of("sc4-sh7"));
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message(), Catch::Contains("API key was refused"));
  }
}
