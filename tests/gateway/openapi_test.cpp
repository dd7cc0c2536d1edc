#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "reelfarm/gateway/api.hpp"

using namespace reelfarm::gateway;

namespace {
// Backends nobody listens on: building the API contacts nothing.
reelfarm::gateway::gateway_backends offline_backends() {
  reelfarm::gateway::gateway_backends b;
  b.postgres_dsn = "host=127.0.0.1 port=1 dbname=none";
  b.redis_url = "redis://127.0.0.1:1";
  b.postgres_pool_size = 1;
  return b;
}
}  // namespace

TEST_CASE("every route is in the OpenAPI document and vice versa", "[openapi]") {
  gateway_options o;
  o.jwt_secret = std::string(40, 's');
  // The pools connect lazily: building the API contacts nothing.
  auto app = api::create(o, offline_backends());
  REQUIRE(app);
  auto doc = nlohmann::json::parse(openapi_document());
  REQUIRE(doc["openapi"].get<std::string>().starts_with("3."));
  std::set<std::string> documented;
  for (const auto& [path, ops] : doc["paths"].items()) {
    for (const auto& [method, op] : ops.items()) {
      std::string upper = method;
      std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
      documented.insert(upper + " " + path);
      CHECK(op.contains("summary"));
      CHECK(op.contains("responses"));
      // Every security requirement names a declared scheme.
      for (const auto& requirement : op.value("security", nlohmann::json::array())) {
        for (const auto& [scheme, scopes] : requirement.items()) {
          INFO(method + " " + path + " uses " + scheme);
          CHECK(doc["components"]["securitySchemes"].contains(scheme));
        }
      }
    }
  }
  std::set<std::string> registered;
  for (const auto& r : (*app)->routes().routes()) {
    registered.insert(r.method + " " + r.pattern);
    // A public route must say so in the document (security: []), and only those.
    std::string method = r.method;
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    auto op =
        doc["paths"].value(r.pattern, nlohmann::json::object()).value(method, nlohmann::json());
    if (op.is_object()) {
      INFO(r.method + " " + r.pattern);
      bool documented_public = op.contains("security") && op["security"].empty();
      CHECK(documented_public == (r.who == access::anyone));
    }
  }
  for (const auto& r : registered) {
    INFO(r);
    CHECK(documented.count(r) == 1);
  }
  for (const auto& d : documented) {
    INFO(d);
    CHECK(registered.count(d) == 1);
  }
  CHECK(docs_page().find("/api/openapi.json") != std::string_view::npos);
}

TEST_CASE("a short JWT secret is refused", "[openapi]") {
  gateway_options o;
  o.jwt_secret = "short";
  CHECK_FALSE(api::create(o, offline_backends()));
}
