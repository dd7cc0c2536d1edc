#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/media/shot_spec.hpp"
#include "reelfarm/testing/temp_dir.hpp"

namespace reelfarm::media::mtest {

/// ffprobe's view of a file: -show_streams -show_format as JSON.
inline nlohmann::json probe(const std::filesystem::path& file) {
  reelfarm::testing::temp_dir dir;
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

/// The audio packets' timestamps (in the stream's time base) as ffprobe lists them.
inline std::vector<long long> audio_packet_pts(const std::filesystem::path& file) {
  reelfarm::testing::temp_dir dir;
  process_options p;
  p.argv = {"/usr/bin/ffprobe", "-v",         "error", "-select_streams", "a",
            "-show_entries",    "packet=pts", "-of",   "csv=p=0",         file.string()};
  p.output_file = (dir.path() / "packets.csv").string();
  std::vector<long long> out;
  auto status = run_program(p, std::chrono::seconds(60));
  if (!status || *status != 0) {
    return out;
  }
  std::string text = *read_file(p.output_file);
  std::size_t at = 0;
  while (at < text.size()) {
    auto end = text.find('\n', at);
    auto line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (!line.empty() && line.find_first_not_of("-0123456789,") == std::string::npos) {
      out.push_back(std::stoll(line));
    }
    at = end == std::string::npos ? text.size() : end + 1;
  }
  return out;
}

/// The stream of `type` ("video" or "audio") in a probe, or null.
inline nlohmann::json stream_of(const nlohmann::json& probe, const std::string& type) {
  for (const auto& s : probe.value("streams", nlohmann::json::array())) {
    if (s.value("codec_type", "") == type) {
      return s;
    }
  }
  return nullptr;
}

inline double seconds(const nlohmann::json& value) {
  return std::stod(value.get<std::string>());
}

/// A small dialogue shot with two characters.
inline shot_spec small_shot(const std::string& id, shot_kind kind = shot_kind::dialogue) {
  shot_spec s;
  s.id = id;
  s.kind = kind;
  s.duration_s = 1.0;
  s.width = 320;
  s.height = 180;
  s.fps = 24;
  s.location = {"INT. KITCHEN - NIGHT", {{200, 170, 120}, {90, 60, 40}}, 11};
  s.characters = {{"ANNA", {{200, 40, 40}, {30, 30, 60}}, 7, {"en+f3", 60, 190}},
                  {"BEN", {{40, 90, 200}, {60, 50, 40}}, 8, {"en-us", 35, 190}}};
  s.heading = "INT. KITCHEN - NIGHT";
  s.action = "Anna pours coffee.";
  s.dialogue = {{"ANNA", "Hi Ben.", ""}};
  return s;
}

}  // namespace reelfarm::media::mtest
