#include "local_provider.hpp"

#include <curl/curl.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "reelfarm/common/filesystem.hpp"

namespace reelfarm::testing {
namespace {

std::size_t append(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::string http(const std::string& method, const std::string& url, const std::string& body) {
  CURL* curl = curl_easy_init();
  std::string out;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  long status = 0;
  auto code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK || status != 200) {
    throw std::runtime_error("control request " + url + " failed");
  }
  return out;
}

}  // namespace

local_provider::local_provider(const std::string& kind, const std::string& api_key,
                               std::vector<std::string> extra_args) {
  auto port_file = dir_.path() / "port";
  log_ = dir_.path() / "requests.jsonl";
  process_options opts;
  opts.argv = {REELFARM_PYTHON3,
               std::string(REELFARM_SOURCE_DIR) + "/tests/farm/local_providers/" + kind + ".py",
               "--port-file",
               port_file.string(),
               "--api-key",
               api_key,
               "--log",
               log_.string()};
  opts.argv.insert(opts.argv.end(), extra_args.begin(), extra_args.end());
  opts.output_file = (dir_.path() / "server.log").string();
  auto child = child_process::spawn(opts);
  if (!child) {
    throw std::runtime_error(child.error().full_text());
  }
  server_ = std::move(*child);
  for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) {
    if (!server_.running()) {
      throw std::runtime_error("the local " + kind + " exited; see " + opts.output_file);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::ifstream in(port_file);
  int port = 0;
  if (!(in >> port) || port <= 0) {
    throw std::runtime_error("the local " + kind + " did not start");
  }
  url_ = "http://127.0.0.1:" + std::to_string(port);
}

local_provider::~local_provider() {
  server_.signal(SIGKILL);
  server_.wait_for(std::chrono::seconds(5));
}

void local_provider::control(const std::string& path, const nlohmann::json& body) {
  http("POST", url_ + "/__control" + path, body.dump());
}

nlohmann::json local_provider::stats() {
  return nlohmann::json::parse(http("GET", url_ + "/__control/stats", ""));
}

std::vector<nlohmann::json> local_provider::requests() const {
  std::vector<nlohmann::json> out;
  std::ifstream in(log_);
  for (std::string line; std::getline(in, line);) {
    out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::filesystem::path tiny_mp4(const std::filesystem::path& dir) {
  auto file = dir / "tiny.mp4";
  process_options p;
  p.argv = {"/usr/bin/ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x180:rate=16:duration=2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            file.string()};
  p.output_file = (dir / "ffmpeg.log").string();
  auto status = run_program(p, std::chrono::seconds(60));
  if (!status || *status != 0) {
    throw std::runtime_error("ffmpeg could not make the test MP4");
  }
  return file;
}

nlohmann::json ffprobe(const std::filesystem::path& file) {
  temp_dir dir;
  process_options p;
  p.argv = {"/usr/bin/ffprobe", "-v",           "error",      "-print_format", "json",
            "-show_streams",    "-show_format", file.string()};
  p.output_file = (dir.path() / "probe.json").string();
  auto status = run_program(p, std::chrono::seconds(60));
  if (!status || *status != 0) {
    return nlohmann::json::object();
  }
  return nlohmann::json::parse(*read_file(p.output_file));
}

}  // namespace reelfarm::testing
