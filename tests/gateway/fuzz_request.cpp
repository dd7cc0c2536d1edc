// libFuzzer target: raw bytes through the server's HTTP parser, then the
// request-handling steps that need no database: routing, query decoding,
// JSON body validation and access-token verification.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "reelfarm/gateway/api.hpp"
#include "reelfarm/gateway/json_input.hpp"
#include "reelfarm/gateway/jwt.hpp"
#include "reelfarm/gateway/request_parser.hpp"

namespace {

// Backends nobody listens on: building the API contacts nothing.
reelfarm::gateway::gateway_backends offline_backends() {
  reelfarm::gateway::gateway_backends b;
  b.postgres_dsn = "host=127.0.0.1 port=1 dbname=none";
  b.redis_url = "redis://127.0.0.1:1";
  b.postgres_pool_size = 1;
  return b;
}

const reelfarm::gateway::router& routes() {
  // The pools inside connect lazily: building the API contacts nothing.
  static auto app = [] {
    reelfarm::gateway::gateway_options o;
    o.jwt_secret = std::string(40, 'k');
    auto made = reelfarm::gateway::api::create(o, offline_backends());
    return std::move(made).value();
  }();
  return app->routes();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reelfarm::gateway;
  auto parsed = parse_request_bytes(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed) {
    return 0;
  }
  auto match = routes().match(parsed->method, parsed->path);
  (void)match;
  (void)parsed->query_param("limit");
  static constexpr std::array<field_spec, 3> fields{{
      {"title", json_kind::string, true, 200},
      {"amount", json_kind::integer, false, 0},
      {"settings", json_kind::object, false, 0},
  }};
  (void)parse_json_body(*parsed, fields);
  if (auto auth = parsed->header("authorization"); auth && auth->size() > 7) {
    (void)jwt_verify(auth->substr(7), std::string(40, 'k'), "reelfarm", 1'700'000'000);
  }
  return 0;
}
