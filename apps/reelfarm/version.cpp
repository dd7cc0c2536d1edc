#include "version.hpp"

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <libpq-fe.h>
#include <sodium.h>
#include <zmq.h>
#include <caf/config.hpp>

#include <nlohmann/json.hpp>
#include <pqxx/version.hxx>
#include <zmq.hpp>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
}

namespace reelfarm::app {
namespace {

std::string dotted(unsigned packed) {  // FFmpeg's AV_VERSION_INT layout
  return std::to_string(packed >> 16) + "." + std::to_string((packed >> 8) & 0xff) + "." +
         std::to_string(packed & 0xff);
}

}  // namespace

std::string version_report() {
  int zmq_major = 0, zmq_minor = 0, zmq_patch = 0;
  zmq_version(&zmq_major, &zmq_minor, &zmq_patch);
  int pq = PQlibVersion();
  const auto* curl = curl_version_info(CURLVERSION_NOW);

  std::string out = "reelfarm " REELFARM_VERSION " (" REELFARM_BUILD_TYPE ", " __VERSION__ ")\n";
  auto line = [&out](const char* name, const std::string& version) {
    out.append("  ").append(name).append(std::string(16 - std::string(name).size(), ' '));
    out.append(version).append("\n");
  };
  line("CAF", std::to_string(CAF_VERSION / 10000) + "." + std::to_string(CAF_VERSION / 100 % 100) +
                  "." + std::to_string(CAF_VERSION % 100));
  line("libpqxx", PQXX_VERSION);
  line("libpq", std::to_string(pq / 10000) + "." + std::to_string(pq % 10000));
  line("hiredis", std::to_string(HIREDIS_MAJOR) + "." + std::to_string(HIREDIS_MINOR) + "." +
                      std::to_string(HIREDIS_PATCH));
  line("ZeroMQ", std::to_string(zmq_major) + "." + std::to_string(zmq_minor) + "." +
                     std::to_string(zmq_patch));
  line("cppzmq", std::to_string(CPPZMQ_VERSION_MAJOR) + "." + std::to_string(CPPZMQ_VERSION_MINOR) +
                     "." + std::to_string(CPPZMQ_VERSION_PATCH));
  line("nlohmann/json", std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                            std::to_string(NLOHMANN_JSON_VERSION_PATCH));
  line("yaml-cpp", REELFARM_YAML_CPP_VERSION);
  line("libcurl", curl->version);
  line("FFmpeg", std::string(av_version_info()) + " (libavcodec " + dotted(avcodec_version()) +
                     ", libavformat " + dotted(avformat_version()) + ")");
  line("prometheus-cpp", REELFARM_PROMETHEUS_CPP_VERSION);
  line("libsodium", sodium_version_string());
  return out;
}

}  // namespace reelfarm::app
