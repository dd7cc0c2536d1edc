#include <catch2/catch.hpp>

#include "reelfarm/gateway/router.hpp"

using namespace reelfarm::gateway;

namespace {
router sample() {
  router r;
  auto h = [](request_context&) { return http_response{}; };
  r.add({"GET", "/api/v1/projects", access::creator, limit_class::standard, true, h});
  r.add({"POST", "/api/v1/projects", access::creator, limit_class::standard, true, h});
  r.add({"GET", "/api/v1/projects/{id}", access::creator, limit_class::standard, true, h});
  r.add({"DELETE", "/api/v1/projects/{id}", access::creator, limit_class::standard, true, h});
  r.add({"GET", "/api/v1/projects/{id}/media/{kind}", access::creator, limit_class::standard, true,
         h});
  return r;
}
}  // namespace

TEST_CASE("routes match by method and path with parameters", "[router]") {
  auto r = sample();
  auto m = r.match("GET", "/api/v1/projects/abc");
  REQUIRE(m.found != nullptr);
  CHECK(m.found->pattern == "/api/v1/projects/{id}");
  CHECK(m.params.at("id") == "abc");
  auto media = r.match("GET", "/api/v1/projects/p%20q/media/film");
  REQUIRE(media.found != nullptr);
  CHECK(media.params.at("id") == "p q");
  CHECK(media.params.at("kind") == "film");
}

TEST_CASE("unknown paths and wrong methods are told apart", "[router]") {
  auto r = sample();
  auto none = r.match("GET", "/api/v1/nothing");
  CHECK(none.found == nullptr);
  CHECK(none.allowed.empty());
  auto wrong = r.match("PUT", "/api/v1/projects");
  CHECK(wrong.found == nullptr);
  CHECK(wrong.allowed == std::vector<std::string>{"GET", "POST"});
}

TEST_CASE("parameters never span or smuggle segments", "[router]") {
  auto r = sample();
  CHECK(r.match("GET", "/api/v1/projects/").found == nullptr);
  CHECK(r.match("GET", "/api/v1/projects/a/b").found == nullptr);
  CHECK(r.match("GET", "/api/v1/projects/..%2f..%2fetc").found == nullptr);
  CHECK(r.match("GET", "/api/v1/projects/%zz").found == nullptr);
  CHECK(r.match("GET", "/api/v1/projects/a%00b").found == nullptr);
  CHECK(r.match("GET", "api/v1/projects").found == nullptr);
  CHECK(r.match("GET", "/api/v1/projects/").allowed.empty());
}

TEST_CASE("query parameters decode", "[router]") {
  http_request req;
  req.query = "limit=10&name=a%20b+c&flag&bad=%g1";
  CHECK(req.query_param("limit") == "10");
  CHECK(req.query_param("name") == "a b c");
  CHECK(req.query_param("flag") == "");
  CHECK(req.query_param("bad") == "");
  CHECK_FALSE(req.query_param("missing"));
}
