#include <catch2/catch.hpp>

#include <array>

#include "reelfarm/gateway/json_input.hpp"

using namespace reelfarm::gateway;

namespace {
constexpr std::array<field_spec, 3> fields{{
    {"name", json_kind::string, true, 5},
    {"count", json_kind::integer, false, 0},
    {"settings", json_kind::object, false, 0},
}};

http_request with_body(std::string body, std::string type = "application/json") {
  http_request r;
  r.headers.emplace_back("content-type", std::move(type));
  r.body = std::move(body);
  return r;
}

int status_of(const http_request& r) {
  auto out = parse_json_body(r, fields);
  if (auto* res = std::get_if<http_response>(&out)) {
    return res->status;
  }
  return 200;
}
}  // namespace

TEST_CASE("valid bodies pass", "[json]") {
  CHECK(status_of(with_body(R"({"name":"abc"})")) == 200);
  CHECK(status_of(with_body(R"({"name":"abc","count":3,"settings":{"a":[1]}})",
                            "Application/JSON; charset=utf-8")) == 200);
}

TEST_CASE("bad bodies are refused with the right status", "[json]") {
  CHECK(status_of(with_body(R"({"name":"abc"})", "text/plain")) == 415);
  CHECK(status_of(with_body("{\"name\":")) == 400);
  CHECK(status_of(with_body("")) == 400);
  CHECK(status_of(with_body("{\"name\":\"\xff\xfe\"}")) == 400);  // not UTF-8
  CHECK(status_of(with_body("[1,2]")) == 422);
  CHECK(status_of(with_body("\"name\"")) == 422);
  CHECK(status_of(with_body(R"({"count":1})")) == 422);                  // missing
  CHECK(status_of(with_body(R"({"name":"abc","admin":true})")) == 422);  // unknown
  CHECK(status_of(with_body(R"({"name":7})")) == 422);                   // wrong type
  CHECK(status_of(with_body(R"({"name":"abc","count":1.5})")) == 422);
  CHECK(status_of(with_body(R"({"name":"abc","count":"1"})")) == 422);
  CHECK(status_of(with_body(R"({"name":"abcdef"})")) == 422);  // too long
  CHECK(status_of(with_body(R"({"name":"a\u0000b"})")) == 422);
  CHECK(status_of(with_body(R"({"name":"a","settings":{"k":"\u0000"}})")) == 422);
}

TEST_CASE("deep nesting is refused before parsing", "[json]") {
  std::string deep(100000, '[');
  CHECK(status_of(with_body(deep)) == 400);
  CHECK(json_too_deep(std::string(40, '{')));
  CHECK_FALSE(json_too_deep(R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})"));
}
