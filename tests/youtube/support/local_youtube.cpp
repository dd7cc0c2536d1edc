#include "local_youtube.hpp"

#include <sodium.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "reelfarm/youtube/http_client.hpp"

namespace reelfarm::testing {

local_youtube::local_youtube() {
  const auto port_file = dir_.path() / "port";
  process_options opts;
  opts.argv = {REELFARM_PYTHON3,
               std::string(REELFARM_SOURCE_DIR) + "/tests/youtube/local_youtube/local_youtube.py",
               "--port-file",
               port_file.string(),
               "--client-id",
               client_id,
               "--client-secret",
               client_secret};
  opts.output_file = (dir_.path() / "server.log").string();
  auto child = child_process::spawn(opts);
  if (!child) {
    throw std::runtime_error(child.error().full_text());
  }
  server_ = std::move(*child);
  for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) {
    if (!server_.running()) {
      throw std::runtime_error("the local YouTube exited; see " + opts.output_file);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::ifstream in(port_file);
  int port = 0;
  if (!(in >> port) || port <= 0) {
    throw std::runtime_error("the local YouTube did not start");
  }
  url_ = "http://127.0.0.1:" + std::to_string(port);
}

local_youtube::~local_youtube() {
  server_.signal(SIGKILL);
  server_.wait_for(std::chrono::seconds(5));
}

youtube::youtube_options local_youtube::options() const {
  youtube::youtube_options o;
  o.client_id = client_id;
  o.client_secret = client_secret;
  o.redirect_uri = "http://127.0.0.1:1/api/v1/youtube/callback";
  o.token_key = token_key;
  o.auth_url = url_ + "/o/oauth2/v2/auth";
  o.token_url = url_ + "/token";
  o.revoke_url = url_ + "/revoke";
  o.api_url = url_ + "/youtube/v3";
  o.upload_url = url_ + "/upload/youtube/v3";
  o.chunk_size = 1 << 20;
  o.request_timeout = std::chrono::seconds(10);
  o.connect_timeout = std::chrono::seconds(5);
  o.backoff_base = std::chrono::milliseconds(10);
  o.backoff_cap = std::chrono::milliseconds(100);
  return o;
}

nlohmann::json local_youtube::control(const std::string& what, const nlohmann::json& body) {
  youtube::http_client http(std::chrono::seconds(10), std::chrono::seconds(5), 64 << 20);
  const auto text = body.dump();
  auto r = http.perform(
      {"POST", url_ + "/__control/" + what, {"Content-Type: application/json"}, text, {}});
  if (!r || r->status != 200) {
    throw std::runtime_error("control call " + what + " failed");
  }
  return nlohmann::json::parse(r->body);
}

nlohmann::json local_youtube::read(const std::string& what) {
  youtube::http_client http(std::chrono::seconds(10), std::chrono::seconds(5), 64 << 20);
  auto r = http.perform({"GET", url_ + "/__control/" + what, {}, {}, {}});
  if (!r || r->status != 200) {
    throw std::runtime_error("control read " + what + " failed");
  }
  return nlohmann::json::parse(r->body);
}

std::string local_youtube::consent(const std::string& consent_url, const std::string& state) {
  youtube::http_client http(std::chrono::seconds(10), std::chrono::seconds(5));
  auto r = http.perform({"GET", consent_url, {}, {}, {}});
  if (!r || r->status != 302) {
    throw std::runtime_error("the consent page did not redirect");
  }
  auto location = r->header("location");
  auto query = location.substr(location.find('?') + 1);
  std::string code;
  std::string returned_state;
  std::size_t at = 0;
  while (at <= query.size()) {
    auto end = query.find('&', at);
    auto pair = query.substr(at, end == std::string::npos ? std::string::npos : end - at);
    auto eq = pair.find('=');
    auto key = pair.substr(0, eq);
    auto value = eq == std::string::npos ? std::string() : pair.substr(eq + 1);
    // Percent-decoding: codes and states here use %2F and the like.
    std::string decoded;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value[i] == '%' && i + 2 < value.size()) {
        decoded += static_cast<char>(std::stoi(value.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        decoded += value[i] == '+' ? ' ' : value[i];
      }
    }
    if (key == "code") {
      code = decoded;
    } else if (key == "state") {
      returned_state = decoded;
    }
    if (end == std::string::npos) {
      break;
    }
    at = end + 1;
  }
  if (returned_state != state) {
    throw std::runtime_error("the consent redirect changed the state");
  }
  return code;
}

std::string sha256_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(buffer.data()),
                              static_cast<unsigned long long>(in.gcount()));
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, digest);
  char hex[sizeof digest * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

}  // namespace reelfarm::testing
