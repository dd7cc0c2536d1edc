// The Stripe-Signature check, case by case as Stripe documents it.
#include <catch2/catch.hpp>

#include "reelfarm/billing/errc.hpp"
#include "reelfarm/billing/stripe_signature.hpp"

using namespace reelfarm;
using namespace reelfarm::billing;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view secret = "whsec_test_0123456789abcdef";
constexpr std::string_view body = R"({"id":"evt_1","object":"event","type":"ping"})";
constexpr std::int64_t signed_at = 1'790'000'000;

std::chrono::system_clock::time_point at(std::int64_t seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

}  // namespace

TEST_CASE("a signature Stripe made is accepted", "[billing][signature]") {
  auto header = stripe_signature_header(body, secret, signed_at);
  CHECK(header.starts_with("t=1790000000,v1="));
  CHECK(verify_stripe_signature(header, body, secret, at(signed_at)));
  CHECK(verify_stripe_signature(header, body, secret, at(signed_at + 299)));
  // Several v1 (a secret being rolled), v0 and unknown schemes, spaces.
  auto other = stripe_signature_header(body, "whsec_old_secret", signed_at);
  auto several = "t=1790000000, v1=" + other.substr(other.find("v1=") + 3) +
                 ", v0=deadbeef, x9=1, v1=" + header.substr(header.find("v1=") + 3);
  CHECK(verify_stripe_signature(several, body, secret, at(signed_at)));
}

TEST_CASE("forged, altered, stale and malformed signatures are refused", "[billing][signature]") {
  auto header = stripe_signature_header(body, secret, signed_at);
  auto refused = [&](std::string_view h, std::string_view b, std::int64_t now,
                     std::string_view s = secret) {
    auto r = verify_stripe_signature(h, b, s, at(now));
    REQUIRE_FALSE(r);
    CHECK(r.error().is(billing_errc::bad_signature));
    return r.error().message();
  };
  CHECK_THAT(refused(header, std::string(body) + " ", signed_at), Catch::Contains("no v1"));
  refused(header, body, signed_at, "whsec_another_secret");
  CHECK_THAT(refused(header, body, signed_at + 301), Catch::Contains("tolerance"));
  CHECK_THAT(refused(header, body, signed_at - 301), Catch::Contains("tolerance"));
  // The timestamp is signed: moving it invalidates the signature.
  auto moved = "t=1790000100" + header.substr(header.find(','));
  refused(moved, body, signed_at + 100);
  CHECK_THAT(refused("", body, signed_at), Catch::Contains("missing"));
  CHECK_THAT(refused("v1=abc", body, signed_at), Catch::Contains("timestamp"));
  CHECK_THAT(refused("t=12x,v1=00", body, signed_at), Catch::Contains("timestamp"));
  CHECK_THAT(refused("t=9223372036854775807,v1=00", body, signed_at),
             Catch::Contains("timestamp"));  // would overflow the clock
  CHECK_THAT(refused("t=-1790000000,v1=00", body, signed_at), Catch::Contains("timestamp"));
  CHECK_THAT(refused("t=1790000000", body, signed_at), Catch::Contains("no v1"));
  CHECK_THAT(refused("t=1790000000,v1=zz", body, signed_at), Catch::Contains("matches"));
  refused(std::string(5000, 'a'), body, signed_at);
  // A signature never appears in the message.
  CHECK_THAT(refused(header, "{}", signed_at),
             !Catch::Contains(header.substr(header.find("v1=") + 3)));
}

TEST_CASE("without a signing secret nothing is verified", "[billing][signature]") {
  auto r = verify_stripe_signature(stripe_signature_header(body, "", signed_at), body, "",
                                   at(signed_at));
  REQUIRE_FALSE(r);
  CHECK(r.error().is(billing_errc::disabled));
}
