#pragma once
// Helpers for the tests that run reelfarm as a cluster of separate processes
// (gateway, coordinators, nodes): a small libcurl client for the HTTP API and
// children that are always stopped when the test ends, even when it fails.
#include <curl/curl.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/testing/temp_dir.hpp"

namespace reelfarm::testing::cluster {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// An HTTP answer: status 0 when the server could not be reached.
struct reply {
  long status = 0;
  std::string body;
  json parsed() const { return json::parse(body, nullptr, false); }
};

inline std::size_t append_body(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

/// One request with an optional bearer token and JSON body.
inline reply call(const std::string& method, const std::string& url, const std::string& token = {},
                  const std::string& body = {}, long timeout_s = 30) {
  reply r;
  CURL* curl = curl_easy_init();
  curl_slist* list = curl_slist_append(nullptr, "Content-Type: application/json");
  if (!token.empty()) {
    list = curl_slist_append(list, ("Authorization: Bearer " + token).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 3L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

/// A reelfarm child whose output goes to `log`; SIGTERM then SIGKILL when
/// destroyed, so no test leaves one behind.
struct process {
  std::string name;
  std::filesystem::path log;
  child_process child;

  process(std::string name_, std::filesystem::path log_, std::vector<std::string> argv)
      : name(std::move(name_)), log(std::move(log_)) {
    process_options p;
    p.argv = std::move(argv);
    p.output_file = log.string();
    auto spawned = child_process::spawn(p);
    REQUIRE(spawned);
    child = std::move(spawned).value();
  }
  process(process&&) = default;
  ~process() { stop(); }

  void stop(std::chrono::seconds grace = 20s) {
    if (child.pid() <= 0 || !child.running()) {
      return;
    }
    child.signal(SIGTERM);
    if (!child.wait_for(grace)) {
      child.signal(SIGKILL);
      child.wait_for(5s);
    }
  }
  void kill9() {
    child.signal(SIGKILL);
    child.wait_for(5s);
  }
  std::string output() const {
    auto text = read_file(log);
    return text ? *text : std::string();
  }
  /// Waits until `text` appears in the output (false after `timeout`).
  bool wait_for_output(const std::string& text, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (output().find(text) != std::string::npos) {
        return true;
      }
      if (!child.running()) {
        return output().find(text) != std::string::npos;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
};

/// The duration ffprobe reads from a media file (REQUIREs that it can).
inline double ffprobe_duration(const std::filesystem::path& file) {
  temp_dir dir;
  process_options p;
  p.argv = {"/usr/bin/ffprobe", "-v",  "error",   "-show_entries",
            "format=duration",  "-of", "csv=p=0", file.string()};
  p.output_file = (dir.path() / "out").string();
  auto status = run_program(p, 30s);
  REQUIRE(status);
  REQUIRE(*status == 0);
  return std::stod(read_file(dir.path() / "out").value());
}

}  // namespace reelfarm::testing::cluster
