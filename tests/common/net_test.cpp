#include "reelfarm/common/net.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using reelfarm::free_loopback_port;

TEST_CASE("a free loopback port is found, the preferred one when it is free", "[net]") {
  auto any = free_loopback_port();
  REQUIRE(any);
  CHECK(*any > 0);
  auto preferred = free_loopback_port(*any);
  REQUIRE(preferred);
  CHECK(*preferred == *any);
}

TEST_CASE("a preferred port that is in use is passed over", "[net]") {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  int taken = ntohs(addr.sin_port);
  auto other = free_loopback_port(taken);
  close(fd);
  REQUIRE(other);
  CHECK(*other != taken);
}
