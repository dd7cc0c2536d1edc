#pragma once

// A real gateway on a free loopback port, over a fresh migrated database and
// the test run's Redis, plus small HTTP clients (libcurl, raw sockets).

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reelfarm/gateway/http_server.hpp"
#include "reelfarm/store/account_repository.hpp"
#include "reelfarm/store/pg_pool.hpp"
#include "reelfarm/store/redis_client.hpp"
#include "reelfarm/testing/services.hpp"

namespace reelfarm::testing {

/// One HTTP exchange as the client saw it.
struct http_reply {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  ///< names lower case

  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string error_code() const {
    auto j = json();
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  }
};

inline std::size_t collect_body(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

inline std::size_t collect_header(char* data, std::size_t size, std::size_t n, void* out) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
      value.pop_back();
    }
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

/// A blocking HTTP request with libcurl.
inline http_reply http_call(const std::string& method, const std::string& url,
                            const std::string& body = {},
                            const std::vector<std::string>& headers = {}) {
  http_reply reply;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : headers) {
    list = curl_slist_append(list, h.c_str());
  }
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty() || method == "POST" || method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return reply;
}

/// Sends `bytes` on a fresh connection and reads until the server closes it
/// or `wait` passes. `pause` is slept between chunks (slow clients).
inline std::string raw_exchange(int port, const std::vector<std::string>& chunks,
                                std::chrono::milliseconds wait = std::chrono::seconds(5),
                                std::chrono::milliseconds pause = std::chrono::milliseconds(0),
                                bool* closed = nullptr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot connect");
  }
  for (const auto& chunk : chunks) {
    (void)::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (pause.count() > 0) {
      std::this_thread::sleep_for(pause);
    }
  }
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + wait;
  bool eof = false;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) {
      break;
    }
    char buf[65536];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      eof = true;
      break;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (closed != nullptr) {
    *closed = eof;
  }
  return out;
}

inline gateway::gateway_options test_gateway_options() {
  gateway::gateway_options o;
  o.port = 0;
  o.io_threads = 2;
  o.blocking_threads = 4;
  o.jwt_secret = "test-secret-test-secret-test-secret-0123456789";
  o.password_ops = 1;
  o.password_memory = 8u << 20;
  o.header_timeout = std::chrono::milliseconds(1500);
  o.body_timeout = std::chrono::milliseconds(1500);
  o.idle_timeout = std::chrono::milliseconds(5000);
  o.json_body_limit = 64 * 1024;
  o.upload_body_limit = 256 * 1024;
  o.limits.per_user = 100000;
  o.limits.per_ip = 100000;
  o.limits.login_per_ip = 100000;
  // The run's Redis is shared and outlives each test, so per-account counts
  // of the same emails would add up across tests; the limiter still runs.
  o.limits.per_account.attempts = 100000;
  o.cors_origins = {"https://app.example.com"};
  return o;
}

/// A signed-up user and their tokens.
struct test_user {
  std::string id;
  std::string email;
  std::string password;
  std::string access;
  std::string refresh;
  std::string auth() const { return "Authorization: Bearer " + access; }
};

/// The gateway on a scratch database.
class gateway_env {
 public:
  explicit gateway_env(gateway::gateway_options options = test_gateway_options(),
                       std::filesystem::path media_dir = {})
      : options_(options) {
    gateway::gateway_backends b;
    b.media_dir = std::move(media_dir);
    b.postgres_dsn = db_.dsn();
    b.redis_url = test_services().redis_url;
    b.postgres_pool_size = 4;
    auto started = gateway::http_server::start(options_, b);
    if (!started) {
      throw std::runtime_error(started.error().full_text());
    }
    server_ = std::move(*started);
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  int port() const { return server_->port(); }
  gateway::http_server& server() { return *server_; }
  const std::string& dsn() const { return db_.dsn(); }

  http_reply get(const std::string& path, const std::vector<std::string>& headers = {}) {
    return http_call("GET", url(path), {}, headers);
  }
  http_reply send(const std::string& method, const std::string& path, const nlohmann::json& body,
                  std::vector<std::string> headers = {}) {
    headers.push_back("Content-Type: application/json");
    return http_call(method, url(path), body.dump(), headers);
  }

  /// Registers a user through the API.
  test_user sign_up(const std::string& name) {
    test_user u{{}, name + "@example.com", "pw-" + name + "-secret", {}, {}};
    auto r = send("POST", "/api/v1/auth/register",
                  {{"email", u.email}, {"password", u.password}, {"full_name", name}});
    if (r.status != 201) {
      throw std::runtime_error("register failed: " + r.body);
    }
    auto j = r.json();
    u.id = j["user"]["id"];
    u.access = j["access_token"];
    u.refresh = j["refresh_token"];
    return u;
  }

  /// Registers a user, makes them admin, logs in again for an admin token.
  test_user admin(const std::string& name) {
    auto u = sign_up(name);
    pg_pool pool(db_.dsn(), 1);
    account_repository accounts(pool, plan_catalog::defaults());
    if (!accounts.set_role(u.id, "admin")) {
      throw std::runtime_error("set_role failed");
    }
    auto r = send("POST", "/api/v1/auth/login", {{"email", u.email}, {"password", u.password}});
    u.access = r.json()["access_token"];
    u.refresh = r.json()["refresh_token"];
    return u;
  }

 private:
  gateway::gateway_options options_;
  scratch_database db_;
  std::unique_ptr<gateway::http_server> server_;
};

}  // namespace reelfarm::testing
