// Who is calling: addresses and networks, X-Forwarded-For behind trusted
// proxies, the rate-limit subject (IPv6 per /64), the Secure cookie rule and
// the per-account login key.
#include <catch2/catch.hpp>

#include "reelfarm/gateway/client_address.hpp"
#include "reelfarm/gateway/errc.hpp"
#include "reelfarm/gateway/rate_limiter.hpp"

using namespace reelfarm;
using namespace reelfarm::gateway;

namespace {

std::vector<ip_network> networks(const std::vector<std::string>& texts) {
  auto parsed = parse_networks(texts);
  REQUIRE(parsed);
  return *parsed;
}

}  // namespace

TEST_CASE("addresses parse with inet_pton and print canonically", "[gateway][address]") {
  CHECK(parse_ip("192.0.2.10")->to_string() == "192.0.2.10");
  CHECK(parse_ip("2001:DB8:0:0::1")->to_string() == "2001:db8::1");
  CHECK(parse_ip("[2001:db8::1]")->to_string() == "2001:db8::1");
  CHECK(parse_ip("fe80::1%eth0")->to_string() == "fe80::1");
  // A dual-stack socket's IPv4 peer is the same address as its dotted form.
  CHECK(parse_ip("::ffff:192.0.2.10")->is_v4());
  CHECK(parse_ip("::ffff:192.0.2.10") == parse_ip("192.0.2.10"));
  CHECK_FALSE(parse_ip("2001:db8::1")->is_v4());
  for (std::string_view bad : {"", "unknown", "192.0.2", "192.0.2.256", "192.0.2.1.5", "1.2.3.4:80",
                               "2001:db8::g", "[2001:db8::1", " 192.0.2.1", "010.0.0.1"}) {
    INFO(bad);
    CHECK_FALSE(parse_ip(bad));
  }
  // inet_pton reads a C string: nothing after a NUL may slip through.
  CHECK_FALSE(parse_ip(std::string_view("192.0.2.1\0junk", 14)));
  CHECK(is_loopback(*parse_ip("127.0.0.1")));
  CHECK(is_loopback(*parse_ip("127.255.0.9")));
  CHECK(is_loopback(*parse_ip("::1")));
  CHECK(is_loopback(*parse_ip("::ffff:127.0.0.1")));
  CHECK_FALSE(is_loopback(*parse_ip("128.0.0.1")));
  CHECK_FALSE(is_loopback(*parse_ip("::2")));
}

TEST_CASE("CIDR networks contain what they should, and bad ones name themselves",
          "[gateway][address]") {
  auto ten = parse_network("10.0.0.0/8");
  REQUIRE(ten);
  CHECK(ten->contains(*parse_ip("10.255.1.2")));
  CHECK(ten->contains(*parse_ip("::ffff:10.1.2.3")));  // mapped peer of a dual-stack socket
  CHECK_FALSE(ten->contains(*parse_ip("11.0.0.1")));
  CHECK_FALSE(ten->contains(*parse_ip("2001:db8::1")));

  auto host = parse_network("192.0.2.7");  // a lone address is one host
  REQUIRE(host);
  CHECK(host->contains(*parse_ip("192.0.2.7")));
  CHECK_FALSE(host->contains(*parse_ip("192.0.2.8")));

  auto v6 = parse_network("2001:db8:ab::/48");
  REQUIRE(v6);
  CHECK(v6->contains(*parse_ip("2001:db8:ab:ffff::1")));
  CHECK_FALSE(v6->contains(*parse_ip("2001:db8:ac::1")));
  CHECK_FALSE(v6->contains(*parse_ip("10.0.0.1")));

  auto odd = parse_network("172.16.5.4/12");  // host bits are cleared, not refused
  REQUIRE(odd);
  CHECK(odd->contains(*parse_ip("172.31.0.1")));
  CHECK_FALSE(odd->contains(*parse_ip("172.32.0.1")));

  auto everything = parse_network("::/0");
  REQUIRE(everything);
  CHECK(everything->contains(*parse_ip("8.8.8.8")));
  CHECK(everything->contains(*parse_ip("2001:db8::1")));

  for (std::string_view bad : {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/-1",
                               "10.0.0.0/8x", "proxy.internal", "10.0.0/8", "/8"}) {
    INFO(bad);
    auto refused = parse_network(bad);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().is(gateway_errc::options));
    CHECK_THAT(refused.error().message(), Catch::Contains("'" + std::string(bad) + "'"));
  }
  auto listed = parse_networks({"10.0.0.0/8", " ::1 ", "", "10.0.0.0/99"});
  REQUIRE_FALSE(listed);
  CHECK_THAT(listed.error().message(),
             Catch::Contains("gateway.trusted_proxies") && Catch::Contains("'10.0.0.0/99'"));
  auto fine = parse_networks({"10.0.0.0/8", " ::1 ", ""});
  REQUIRE(fine);
  CHECK(fine->size() == 2);
}

TEST_CASE("X-Forwarded-For is believed only from a trusted proxy, right to left",
          "[gateway][address]") {
  auto trusted = networks({"10.0.0.0/8", "2001:db8:ffff::/48"});
  // Anyone else's header is ignored: the peer is the client.
  CHECK(client_address("198.51.100.4", "203.0.113.9", trusted) == "198.51.100.4");
  CHECK(client_address("198.51.100.4", "203.0.113.9", {}) == "198.51.100.4");
  CHECK(client_address("::ffff:198.51.100.4", "", trusted) == "198.51.100.4");
  // From a trusted proxy: the right-most address that is not one of ours.
  CHECK(client_address("10.0.0.2", "203.0.113.9", trusted) == "203.0.113.9");
  CHECK(client_address("10.0.0.2", "203.0.113.9, 10.1.1.1, 10.2.2.2", trusted) == "203.0.113.9");
  // A client's own X-Forwarded-For is kept to the left by the proxy; it
  // cannot pick its address.
  CHECK(client_address("10.0.0.2", "1.2.3.4, 203.0.113.9", trusted) == "203.0.113.9");
  CHECK(client_address("2001:db8:ffff::5", "2001:db8:1::7", trusted) == "2001:db8:1::7");
  // Ports some proxies add, and spacing.
  CHECK(client_address("10.0.0.2", " 203.0.113.9:5123 ", trusted) == "203.0.113.9");
  CHECK(client_address("10.0.0.2", "[2001:db8:1::7]:443", trusted) == "2001:db8:1::7");
  // No header, or only our proxies: the left-most hop we know.
  CHECK(client_address("10.0.0.2", "", trusted) == "10.0.0.2");
  CHECK(client_address("10.0.0.2", "10.9.9.9, 10.0.0.3", trusted) == "10.9.9.9");
  // Garbage stops the walk at the hop that wrote it: nothing left of it counts.
  CHECK(client_address("10.0.0.2", "203.0.113.9, junk", trusted) == "10.0.0.2");
  CHECK(client_address("10.0.0.2", "203.0.113.9, junk, 10.0.0.7", trusted) == "10.0.0.7");
  CHECK(client_address("10.0.0.2", "unknown", trusted) == "10.0.0.2");
  // Empty entries (two headers joined) carry nothing.
  CHECK(client_address("10.0.0.2", "203.0.113.9,, ", trusted) == "203.0.113.9");
  // A peer that is not an address is kept as it came.
  CHECK(client_address("unknown", "203.0.113.9", trusted) == "unknown");
}

TEST_CASE("rate limits key IPv4 per address and IPv6 per /64", "[gateway][address]") {
  CHECK(address_subject("192.0.2.10") == "ip:192.0.2.10");
  CHECK(address_subject("::ffff:192.0.2.10") == "ip:192.0.2.10");
  CHECK(address_subject("2001:db8:1:2::1") == "ip:2001:db8:1:2::/64");
  // Every address of one /64 is one subject; the next /64 is another.
  CHECK(address_subject("2001:db8:1:2:ffff:ffff:ffff:ffff") == address_subject("2001:db8:1:2::9"));
  CHECK(address_subject("2001:db8:1:3::1") != address_subject("2001:db8:1:2::1"));
  CHECK(address_subject("2001:DB8:1:2:0:0:0:1") == "ip:2001:db8:1:2::/64");
  CHECK(address_subject("unknown") == "ip:unknown");
}

TEST_CASE("session cookies are Secure except on plain http to the loopback", "[gateway][cookies]") {
  auto secure = [](bool always, bool https, std::optional<std::string_view> host,
                   std::string_view peer = "127.0.0.1") {
    return cookies_secure({always, https, host, peer});
  };
  // A local browser over http keeps its cookies.
  CHECK_FALSE(secure(false, false, "127.0.0.1:8080"));
  CHECK_FALSE(secure(false, false, "127.3.4.5"));
  CHECK_FALSE(secure(false, false, "localhost:8080"));
  CHECK_FALSE(secure(false, false, "LocalHost."));
  CHECK_FALSE(secure(false, false, "[::1]:8080"));
  CHECK_FALSE(secure(false, false, "::1"));
  CHECK_FALSE(secure(false, false, std::nullopt, "::1"));
  // Anywhere else they are Secure, over http too (a browser then drops them,
  // rather than sending them in the clear).
  CHECK(secure(false, false, "farm.example.com"));
  CHECK(secure(false, false, "farm.example.com:8080"));
  CHECK(secure(false, false, "192.0.2.10:8080"));
  CHECK(secure(false, false, "[2001:db8::1]:8080"));
  CHECK(secure(false, false, "localhost.example.com"));
  CHECK(secure(false, false, ""));
  CHECK(secure(false, false, std::nullopt, "192.0.2.10"));
  // The Host decides, not the peer: a local proxy passes the public name.
  CHECK(secure(false, false, "farm.example.com", "127.0.0.1"));
  // Over https, or when configured, always.
  CHECK(secure(false, true, "localhost:8080"));
  CHECK(secure(true, false, "127.0.0.1:8080"));
}

TEST_CASE("one account is one login key, whatever the spelling of its email", "[gateway][limits]") {
  auto key = login_account_key("Mara@Example.com");
  CHECK(key == login_account_key("  mara@example.com\t"));
  CHECK(key != login_account_key("mara@example.org"));
  CHECK(key.starts_with("login:{"));
  CHECK(key.ends_with("}"));
  CHECK(key.size() == std::string("login:{}").size() + 64);  // SHA-256 hex
  CHECK(key.find("mara") == std::string::npos);              // no address in Redis
  // An email cannot spell another account's key or step outside its own.
  CHECK(login_account_key("a}:lock") != login_account_key("a"));
  CHECK(login_account_key("a}:lock").find(":lock") == std::string::npos);
}
