#include "reelfarm/common/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "reelfarm/common/errc.hpp"

namespace reelfarm {
namespace {

// Binds 127.0.0.1:port (0: any); returns the bound port or 0 when taken.
int try_bind(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return 0;
  }
  // Servers bind with SO_REUSEADDR: a port whose last connections linger in
  // TIME_WAIT is free for them, so the probe binds the same way.
  int reuse = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int bound = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      bound = ntohs(addr.sin_port);
    }
  }
  close(fd);
  return bound;
}

}  // namespace

result<int> free_loopback_port() {
  if (int port = try_bind(0); port > 0) {
    return port;
  }
  return error(common_errc::io, std::string("no free TCP port on 127.0.0.1: ") + strerror(errno));
}

}  // namespace reelfarm
