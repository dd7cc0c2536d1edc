#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "reelfarm/common/process.hpp"
#include "reelfarm/testing/temp_dir.hpp"
#include "reelfarm/youtube/youtube_options.hpp"

namespace reelfarm::testing {

/// The local YouTube (tests/youtube/local_youtube/local_youtube.py) started
/// for one test on its own port; stopped on destruction.
class local_youtube {
 public:
  local_youtube();
  ~local_youtube();
  local_youtube(const local_youtube&) = delete;
  local_youtube& operator=(const local_youtube&) = delete;

  /// http://127.0.0.1:PORT
  const std::string& url() const noexcept { return url_; }
  static constexpr const char* client_id = "reelfarm-test.apps.googleusercontent.com";
  static constexpr const char* client_secret = "GOCSPX-test-secret";
  static constexpr const char* token_key =
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  /// Options against this server with short timings.
  youtube::youtube_options options() const;

  /// POST /__control/{what} with `body`.
  nlohmann::json control(const std::string& what,
                         const nlohmann::json& body = nlohmann::json::object());
  /// GET /__control/{what} (stats, videos).
  nlohmann::json read(const std::string& what);

  /// Runs the consent page as a browser would and returns the code from the
  /// redirect, checking that `state` came back unchanged.
  std::string consent(const std::string& consent_url, const std::string& state);

 private:
  temp_dir dir_;
  child_process server_;
  std::string url_;
};

/// sha256 of a file, hex.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace reelfarm::testing
