// Streams and large downloads (issue #19): one user cannot take every
// stream slot, and a client that stops reading a download holds neither a
// thread for ever nor the server's graceful stop.
#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include <pqxx/pqxx>

#include "gateway_fixture.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace reelfarm::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

// A connection that sent one GET and read the response head (and whatever
// came with it), left open. The receive buffer is small, so a client that
// stops reading makes the server's sends wait.
struct open_stream {
  int fd = -1;
  std::string head;
  open_stream(int port, const std::string& path, const std::string& token) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 16 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    auto request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                   token + "\r\n\r\n";
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size()));
    // Until the blank line that ends the head (or the server closes).
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (head.find("\r\n\r\n") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) {
        continue;
      }
      char buf[1024];
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        break;
      }
      head.append(buf, static_cast<std::size_t>(n));
    }
  }
  ~open_stream() { close(); }
  void close() {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
  // Reads what is left until the server closes; the bytes read.
  std::size_t drain(bool& closed) {
    std::size_t total = 0;
    closed = false;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) {
        continue;
      }
      char buf[65536];
      auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      total += static_cast<std::size_t>(n);
    }
    return total;
  }
};

std::string status_line(const open_stream& s) {
  return s.head.substr(0, s.head.find("\r\n"));
}

std::string new_project(gateway_env& env, const test_user& u) {
  auto made =
      env.send("POST", "/api/v1/projects",
               {{"title", "Streams"}, {"script", "INT. HOUSE - DAY\n\nA door opens."}}, {u.auth()});
  REQUIRE(made.status == 201);
  return made.json()["id"];
}

}  // namespace

TEST_CASE("one user may hold only max_streams_per_user streams at once", "[server][streams]") {
  auto options = test_gateway_options();
  options.max_streams_per_user = 2;
  gateway_env env(options);
  auto alice = env.sign_up("alice");
  auto bob = env.sign_up("bob");
  auto mine = "/api/v1/projects/" + new_project(env, alice) + "/events";
  auto bobs = "/api/v1/projects/" + new_project(env, bob) + "/events";

  auto first = std::make_unique<open_stream>(env.port(), mine, alice.access);
  open_stream second(env.port(), mine, alice.access);
  CHECK(status_line(*first) == "HTTP/1.1 200 OK");
  CHECK(status_line(second) == "HTTP/1.1 200 OK");
  // The third is refused with a clear error; other users are not affected.
  open_stream third(env.port(), mine, alice.access);
  INFO(third.head);
  CHECK(status_line(third).starts_with("HTTP/1.1 429"));
  CHECK_THAT(third.head, Catch::Contains("too_many_streams") &&
                             Catch::Contains("close one and retry") &&
                             Catch::Contains("Retry-After"));
  open_stream other(env.port(), bobs, bob.access);
  CHECK(status_line(other) == "HTTP/1.1 200 OK");

  // Closing one frees its slot once the server notices the client left.
  first->close();
  bool admitted = false;
  for (int i = 0; i < 100 && !admitted; ++i) {
    open_stream again(env.port(), mine, alice.access);
    admitted = status_line(again) == "HTTP/1.1 200 OK";
    if (!admitted) {
      std::this_thread::sleep_for(100ms);
    }
  }
  CHECK(admitted);
}

TEST_CASE("a download the client stopped reading does not hold the graceful stop",
          "[server][streams]") {
  temp_dir media;
  auto options = test_gateway_options();
  options.drain_timeout = 2s;
  gateway_env env(options, media.path());
  auto carol = env.sign_up("carol");
  auto project = new_project(env, carol);
  // A finished film far larger than the socket buffers (and than the 4 MiB
  // answered from memory), so it is sent by sendfile on a stream thread.
  const std::string folder = "users/" + carol.id + "/projects/" + project + "/final";
  std::filesystem::create_directories(media.path() / folder);
  const std::size_t film_size = 48u << 20;
  {
    std::ofstream film(media.path() / folder / "film.mp4", std::ios::binary);
    std::string block(1 << 20, 'f');
    for (std::size_t i = 0; i < film_size / block.size(); ++i) {
      film << block;
    }
  }
  {
    pqxx::connection conn(env.dsn());
    pqxx::work tx(conn);
    tx.exec_params0("UPDATE projects SET status = 'complete', video_url = $2 WHERE id = $1::uuid",
                    project, folder + "/film.mp4");
    tx.commit();
  }

  // The client reads the head, then stops reading.
  open_stream stalled(env.port(), "/api/v1/projects/" + project + "/media/film", carol.access);
  INFO(stalled.head.substr(0, 200));
  REQUIRE(status_line(stalled) == "HTTP/1.1 200 OK");
  CHECK_THAT(stalled.head, Catch::Contains("Content-Length: " + std::to_string(film_size)));

  // The stop returns (on a blocking sendfile it never did), and the
  // stalled download is cut off, not finished.
  env.server().stop();
  bool closed = false;
  auto got = stalled.drain(closed);
  CHECK(closed);
  CHECK(got + stalled.head.size() < film_size);
}
