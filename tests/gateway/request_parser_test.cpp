#include <catch2/catch.hpp>

#include "reelfarm/gateway/request_parser.hpp"

using namespace reelfarm::gateway;

TEST_CASE("complete requests parse into plain requests", "[parser]") {
  auto r = parse_request_bytes(
      "POST /api/v1/projects?limit=5 HTTP/1.1\r\nHost: x\r\nX-Request-Id: Abc\r\n"
      "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  REQUIRE(r);
  CHECK(r->method == "POST");
  CHECK(r->path == "/api/v1/projects");
  CHECK(r->query == "limit=5");
  CHECK(r->header("x-request-id") == "Abc");
  CHECK(r->body == "{}");
}

TEST_CASE("malformed, incomplete and oversized requests are refused", "[parser]") {
  CHECK_FALSE(parse_request_bytes("GARBAGE\r\n\r\n"));
  CHECK_FALSE(parse_request_bytes("GET / HTTP/1.1\r\nHost: x\r\n"));
  CHECK_FALSE(parse_request_bytes("GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab"));
  CHECK_FALSE(
      parse_request_bytes("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"));
  CHECK_FALSE(parse_request_bytes("GET / HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n"));
  CHECK_FALSE(parse_request_bytes(
      "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'a'), 8192, 10));
}
