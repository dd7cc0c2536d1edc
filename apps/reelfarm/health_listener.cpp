#include "health_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "reelfarm/common/errc.hpp"
#include "reelfarm/common/metrics.hpp"

namespace reelfarm::app {

result<std::unique_ptr<health_listener>> health_listener::start(const std::string& spec,
                                                                std::function<bool()> ready,
                                                                std::string role) {
  auto colon = spec.rfind(':');
  std::string host = colon == std::string::npos ? "0.0.0.0" : spec.substr(0, colon);
  std::string port_text = colon == std::string::npos ? spec : spec.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535) {
    return error(
        common_errc::invalid_argument,
        "--health-port takes [HOST:]PORT, e.g. 9465 or 127.0.0.1:9465; got \"" + spec + "\"");
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port_text)));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return error(common_errc::invalid_argument,
                 "--health-port: \"" + host + "\" is not an IPv4 address");
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return error(common_errc::io, std::string("health listener: socket: ") + std::strerror(errno));
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    auto why = std::string(std::strerror(errno));
    ::close(fd);
    return error(common_errc::io, "health listener: cannot listen on " + spec + ": " + why);
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return std::unique_ptr<health_listener>(
      new health_listener(fd, ntohs(addr.sin_port), std::move(ready), std::move(role)));
}

health_listener::health_listener(int fd, int port, std::function<bool()> ready, std::string role)
    : fd_(fd), port_(port), ready_(std::move(ready)), role_(std::move(role)) {
  thread_ = std::thread([this] { serve(); });
}

health_listener::~health_listener() {
  stopping_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
  ::close(fd_);
}

void health_listener::serve() {
  while (!stopping_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) {
      continue;  // a timeout (look at stopping_ again) or EINTR
    }
    int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client >= 0) {
      answer(client);
      ::close(client);
    }
  }
}

void health_listener::answer(int client) {
  // A slow or silent client must not hold the only thread for long.
  timeval limit{2, 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  std::string request;
  char buffer[1024];
  while (request.find("\r\n") == std::string::npos && request.size() < 8192) {
    auto n = ::recv(client, buffer, sizeof buffer, 0);
    if (n <= 0) {
      return;
    }
    request.append(buffer, static_cast<std::size_t>(n));
  }
  auto line = request.substr(0, request.find("\r\n"));
  auto first = line.find(' ');
  auto second = line.find(' ', first + 1);
  std::string method = line.substr(0, first);
  std::string path = first == std::string::npos ? "" : line.substr(first + 1, second - first - 1);
  if (auto q = path.find('?'); q != std::string::npos) {
    path.resize(q);
  }
  int status = 404;
  std::string type = "application/json";
  std::string body = R"({"error":{"code":"not_found"}})";
  if (method != "GET" && method != "HEAD") {
    status = 405;
    body = R"({"error":{"code":"method_not_allowed"}})";
  } else if (path == "/healthz" || path == "/api/v1/healthz") {
    status = 200;
    body = R"({"status":"ok"})";
  } else if (path == "/readyz" || path == "/api/v1/readyz") {
    bool ready = ready_();
    status = ready ? 200 : 503;
    body = std::string(R"({"status":")") + (ready ? "ready" : "not_ready") + R"(","role":")" +
           (ready ? role_ : "standby") + "\"}";
  } else if (path == "/metrics") {
    status = 200;
    type = "text/plain; version=0.0.4; charset=utf-8";
    body = metrics::scrape_text();
  }
  const char* reason = status == 200   ? "OK"
                       : status == 503 ? "Service Unavailable"
                       : status == 405 ? "Method Not Allowed"
                                       : "Not Found";
  std::string reply =
      "HTTP/1.0 " + std::to_string(status) + " " + reason + "\r\nContent-Type: " + type +
      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
  if (method != "HEAD") {
    reply += body;
  }
  std::size_t sent = 0;
  while (sent < reply.size()) {
    auto n = ::send(client, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return;
    }
    sent += static_cast<std::size_t>(n);
  }
}

}  // namespace reelfarm::app
