#include "reelfarm/gateway/client_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

#include "reelfarm/gateway/errc.hpp"
#include "reelfarm/gateway/http_message.hpp"

namespace reelfarm::gateway {

namespace {

// `address` with every bit after the first `prefix` cleared.
ip_address masked(ip_address address, int prefix) {
  for (int i = 0; i < 16; ++i) {
    int keep = std::clamp(prefix - 8 * i, 0, 8);
    address.bytes[i] &= static_cast<std::uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
  }
  return address;
}

// ":<1 to 5 digits>", the port some proxies append.
bool is_port_suffix(std::string_view text) {
  if (text.size() < 2 || text.size() > 6 || text.front() != ':') {
    return false;
  }
  return std::all_of(text.begin() + 1, text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One X-Forwarded-For entry: an address, or one with a port ("1.2.3.4:80",
// "[2001:db8::1]:80"), which some proxies write.
std::optional<ip_address> parse_hop(std::string_view entry) {
  if (auto plain = parse_ip(entry)) {
    return plain;
  }
  if (entry.starts_with('[')) {
    auto close = entry.find(']');
    if (close == std::string_view::npos || !is_port_suffix(entry.substr(close + 1))) {
      return std::nullopt;
    }
    return parse_ip(entry.substr(1, close - 1));
  }
  auto colon = entry.find(':');
  if (colon == std::string_view::npos || !is_port_suffix(entry.substr(colon))) {
    return std::nullopt;
  }
  auto v4 = parse_ip(entry.substr(0, colon));
  return v4 && v4->is_v4() ? v4 : std::nullopt;
}

bool trusted_by(const std::vector<ip_network>& trusted, const ip_address& address) {
  return std::any_of(trusted.begin(), trusted.end(),
                     [&](const ip_network& n) { return n.contains(address); });
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool ip_address::is_v4() const noexcept {
  return std::all_of(bytes.begin(), bytes.begin() + 10, [](std::uint8_t b) { return b == 0; }) &&
         bytes[10] == 0xff && bytes[11] == 0xff;
}

std::string ip_address::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, bytes.data() + 12, text, sizeof text);
  } else {
    inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  }
  return text;
}

std::optional<ip_address> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  // inet_pton reads a C string: a NUL inside would end it early and let
  // trailing garbage through.
  if (text.empty() || text.size() > 64 || text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  std::string literal(text);
  ip_address out;
  if (literal.find(':') != std::string::npos) {
    if (auto zone = literal.find('%'); zone != std::string::npos) {
      literal.resize(zone);  // link-local scope: not part of the address
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, literal.c_str(), &v6) != 1) {
      return std::nullopt;
    }
    std::memcpy(out.bytes.data(), &v6, 16);
    return out;
  }
  in_addr v4{};
  if (inet_pton(AF_INET, literal.c_str(), &v4) != 1) {
    return std::nullopt;
  }
  out.bytes[10] = 0xff;
  out.bytes[11] = 0xff;
  std::memcpy(out.bytes.data() + 12, &v4, 4);
  return out;
}

bool is_loopback(const ip_address& address) noexcept {
  if (address.is_v4()) {
    return address.bytes[12] == 127;
  }
  static const ip_address v6_loopback{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
  return address == v6_loopback;
}

bool ip_network::contains(const ip_address& address) const noexcept {
  return masked(address, prefix) == base;
}

result<ip_network> parse_network(std::string_view text) {
  auto invalid = [&] {
    return error(gateway_errc::options,
                 "'" + std::string(text) +
                     "' is not an IP address or CIDR network (like 10.0.0.0/8 or 2001:db8::/32)");
  };
  auto slash = text.find('/');
  auto address_text = text.substr(0, slash);
  auto address = parse_ip(address_text);
  if (!address) {
    return invalid();
  }
  // The prefix counts in the family the text is written in: "::ffff:10.0.0.0"
  // is IPv6 text, so its prefix is over 128 bits even though it holds IPv4.
  bool v4_text = address_text.find(':') == std::string_view::npos;
  int bits = v4_text ? 32 : 128;
  int prefix = bits;
  if (slash != std::string_view::npos) {
    auto digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 ||
        prefix > bits) {
      return invalid();
    }
  }
  if (v4_text) {
    prefix += 96;  // IPv4 is held IPv4-mapped: its bits start at bit 96
  }
  return ip_network{masked(*address, prefix), prefix};
}

result<std::vector<ip_network>> parse_networks(const std::vector<std::string>& texts) {
  std::vector<ip_network> out;
  for (const auto& text : texts) {
    auto entry = trim_blanks(text);
    if (entry.empty()) {
      continue;
    }
    auto network = parse_network(entry);
    if (!network) {
      return error(gateway_errc::options, "gateway.trusted_proxies: " + network.error().message());
    }
    out.push_back(*network);
  }
  return out;
}

std::string client_address(std::string_view peer, std::string_view forwarded,
                           const std::vector<ip_network>& trusted) {
  auto peer_address = parse_ip(peer);
  if (!peer_address) {
    return std::string(peer);
  }
  if (!trusted_by(trusted, *peer_address)) {
    // Anyone may send X-Forwarded-For; only our own proxies' word counts.
    return peer_address->to_string();
  }
  ip_address client = *peer_address;
  std::string_view rest = forwarded;
  while (!rest.empty()) {
    auto comma = rest.rfind(',');
    auto entry = trim_blanks(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    if (entry.empty()) {
      continue;
    }
    auto hop = parse_hop(entry);
    if (!hop) {
      break;
    }
    client = *hop;
    if (!trusted_by(trusted, client)) {
      break;
    }
  }
  return client.to_string();
}

std::string address_subject(std::string_view client) {
  auto address = parse_ip(client);
  if (!address) {
    return "ip:" + std::string(client);
  }
  if (address->is_v4()) {
    return "ip:" + address->to_string();
  }
  return "ip:" + masked(*address, 64).to_string() + "/64";
}

bool is_loopback_host(std::string_view host) {
  host = trim_blanks(host);
  std::string_view name = host;
  if (host.starts_with('[')) {
    auto close = host.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    name = host.substr(1, close - 1);
  } else if (auto colon = host.find(':'); colon != std::string_view::npos &&
                                          host.find(':', colon + 1) == std::string_view::npos) {
    name = host.substr(0, colon);  // name:port; more colons: a bare IPv6 address
  }
  if (name.ends_with('.')) {
    name.remove_suffix(1);
  }
  if (equals_ignoring_case(name, "localhost")) {
    return true;
  }
  auto address = parse_ip(name);
  return address && is_loopback(*address);
}

bool cookies_secure(const cookie_context& context) {
  if (context.always_secure || context.https) {
    return true;
  }
  // The Host header is the name the browser used, so it tells whether the
  // browser talks to its own machine even through a local proxy or tunnel.
  if (context.host) {
    return !is_loopback_host(*context.host);
  }
  auto peer = parse_ip(context.peer);
  return !(peer && is_loopback(*peer));
}

}  // namespace reelfarm::gateway
