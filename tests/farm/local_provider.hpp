#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reelfarm/common/process.hpp"
#include "reelfarm/testing/temp_dir.hpp"

namespace reelfarm::testing {

/// One local generation provider (tests/farm/local_providers/KIND.py) started
/// for a test on its own port, with a request log; stopped on destruction.
class local_provider {
 public:
  /// `kind`: comfyui, replicate or runpod; `api_key` the key it demands.
  local_provider(const std::string& kind, const std::string& api_key,
                 std::vector<std::string> extra_args = {});
  ~local_provider();
  local_provider(const local_provider&) = delete;
  local_provider& operator=(const local_provider&) = delete;

  /// http://127.0.0.1:PORT
  const std::string& url() const noexcept { return url_; }
  /// The request log (JSON lines).
  const std::filesystem::path& log_file() const noexcept { return log_; }

  /// POST /__control{path} with `body`.
  void control(const std::string& path, const nlohmann::json& body);
  /// GET /__control/stats: counters, jobs, settings.
  nlohmann::json stats();
  /// The request log as JSON objects.
  std::vector<nlohmann::json> requests() const;

 private:
  temp_dir dir_;
  std::filesystem::path log_;
  child_process server_;
  std::string url_;
};

/// A tiny MP4 (H.264, 320x180, 2 s at 16 fps) made once with the ffmpeg CLI.
std::filesystem::path tiny_mp4(const std::filesystem::path& dir);

/// ffprobe -show_streams -show_format of `file` as JSON ({} when it fails).
nlohmann::json ffprobe(const std::filesystem::path& file);

}  // namespace reelfarm::testing
