#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "reelfarm/gateway/errc.hpp"
#include "reelfarm/gateway/jwt.hpp"
#include "reelfarm/gateway/token_codec.hpp"

using namespace reelfarm;
using namespace reelfarm::gateway;

namespace {
const std::string secret = "0123456789abcdef0123456789abcdef";
const std::int64_t now = 1'700'000'000;

jwt_claims sample() {
  return {"6f1c1d2e-0000-4000-8000-000000000001", "creator", "reelfarm", now, now + 3600};
}

std::string forge(const nlohmann::json& header, const nlohmann::json& body, std::string sig) {
  return base64url_encode(header.dump()) + "." + base64url_encode(body.dump()) + "." + sig;
}
}  // namespace

TEST_CASE("a signed token verifies and keeps its claims", "[jwt]") {
  auto token = jwt_sign(sample(), secret);
  auto claims = jwt_verify(token, secret, "reelfarm", now + 10);
  REQUIRE(claims);
  CHECK(claims->subject == sample().subject);
  CHECK(claims->role == "creator");
  CHECK(claims->expires_at == now + 3600);
}

TEST_CASE("expired, future, foreign and forged tokens are refused", "[jwt]") {
  auto token = jwt_sign(sample(), secret);
  auto expired = jwt_verify(token, secret, "reelfarm", now + 3600);
  REQUIRE_FALSE(expired);
  CHECK(expired.error().is(gateway_errc::token_expired));
  CHECK_FALSE(jwt_verify(token, secret, "reelfarm", now - 3600));  // iat in the future
  CHECK_FALSE(jwt_verify(token, secret, "someone-else", now));
  CHECK_FALSE(jwt_verify(token, "another-secret-another-secret-xx", "reelfarm", now));
  auto tampered = token;
  tampered[tampered.find('.') + 5] ^= 1;
  CHECK_FALSE(jwt_verify(tampered, secret, "reelfarm", now));
  CHECK_FALSE(jwt_verify(token + "x", secret, "reelfarm", now));
  CHECK_FALSE(jwt_verify("", secret, "reelfarm", now));
  CHECK_FALSE(jwt_verify("a.b", secret, "reelfarm", now));
  CHECK_FALSE(jwt_verify("a.b.c.d", secret, "reelfarm", now));
}

TEST_CASE("the algorithm is pinned to HS256", "[jwt]") {
  nlohmann::json body = {{"sub", sample().subject},
                         {"role", "admin"},
                         {"iss", "reelfarm"},
                         {"iat", now},
                         {"exp", now + 3600}};
  for (const char* alg : {"none", "None", "RS256", "HS512", "hs256"}) {
    INFO(alg);
    auto result =
        jwt_verify(forge({{"alg", alg}, {"typ", "JWT"}}, body, ""), secret, "reelfarm", now);
    REQUIRE_FALSE(result);
    CHECK(result.error().is(gateway_errc::token_invalid));
  }
  CHECK_FALSE(jwt_verify(forge({{"typ", "JWT"}}, body, "AAAA"), secret, "reelfarm", now));
}

TEST_CASE("claims of the wrong type are refused", "[jwt]") {
  nlohmann::json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  nlohmann::json body = {
      {"sub", 12}, {"role", "admin"}, {"iss", "reelfarm"}, {"iat", now}, {"exp", "never"}};
  auto input = base64url_encode(header.dump()) + "." + base64url_encode(body.dump());
  // Sign it properly: only the claim types are wrong.
  auto good = jwt_sign(sample(), secret);
  CHECK_FALSE(jwt_verify(input + "." + good.substr(good.rfind('.') + 1), secret, "reelfarm", now));
}

TEST_CASE("base64url round-trips and rejects foreign characters", "[jwt]") {
  std::string bytes("\x00\xff\x10 hello?>", 10);
  auto text = base64url_encode(bytes);
  CHECK(text.find_first_of("+/=") == std::string::npos);
  CHECK(base64url_decode(text) == bytes);
  CHECK_FALSE(base64url_decode("ab+c"));
  CHECK_FALSE(base64url_decode("abc="));
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(random_token().size() == 43);
  CHECK(random_token() != random_token());
}
