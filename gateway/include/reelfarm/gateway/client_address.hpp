#pragma once

// Who is calling: the client's address behind trusted reverse proxies, the
// subject its rate limits count under, and whether its session cookies must
// be Secure. Plain functions, so every rule has a unit test.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/common/result.hpp"

namespace reelfarm::gateway {

/// An IPv4 or IPv6 address in 16 bytes. IPv4 is kept IPv4-mapped
/// (::ffff:a.b.c.d), as a dual-stack socket reports it, so one IPv4 network
/// matches both forms.
struct ip_address {
  std::array<std::uint8_t, 16> bytes{};

  bool is_v4() const noexcept;
  /// Dotted quad for IPv4 (mapped or not), RFC 5952 text for IPv6.
  std::string to_string() const;
  bool operator==(const ip_address&) const = default;
};

/// Parses an address literal with inet_pton: IPv4, IPv6, IPv6 in brackets;
/// an IPv6 zone ("%eth0") is dropped. nullopt for anything else.
std::optional<ip_address> parse_ip(std::string_view text);

/// True for 127.0.0.0/8 (also IPv4-mapped) and ::1.
bool is_loopback(const ip_address& address) noexcept;

/// A CIDR network; `prefix` counts over all 128 bits (IPv4 /n is 96 + n).
struct ip_network {
  ip_address base;  ///< host bits cleared
  int prefix = 128;

  bool contains(const ip_address& address) const noexcept;
};

/// Parses "10.0.0.0/8", "2001:db8::/32" or a lone address (one host). Host
/// bits set in the base are cleared. The error names the text.
result<ip_network> parse_network(std::string_view text);

/// Parses gateway.trusted_proxies; the first entry that is not a network is
/// the error ("gateway.trusted_proxies: 'x' is not ...").
result<std::vector<ip_network>> parse_networks(const std::vector<std::string>& texts);

/// The client's address. `peer` is the socket's peer; `forwarded` is every
/// X-Forwarded-For value of the request joined with commas, in order. The
/// header is believed only when the peer is inside `trusted`: it is read
/// from the right (each proxy appends the address it saw), skipping trusted
/// proxies, and the first address that is not one is the client. When every
/// hop is trusted, the left-most is. An entry that is not an address stops
/// the walk at the hop that wrote it: only a client writes garbage, so
/// nothing to its left can be believed. The result is canonical text (see
/// ip_address::to_string), or `peer` as given when it is not an address.
std::string client_address(std::string_view peer, std::string_view forwarded,
                           const std::vector<ip_network>& trusted);

/// The rate-limit subject of a client address: "ip:<IPv4>", or for IPv6 the
/// /64 the address is in ("ip:2001:db8:1:2::/64"), since one user usually
/// holds a whole /64 and could otherwise multiply any per-address budget.
/// Text that is not an address is kept as is ("ip:unknown").
std::string address_subject(std::string_view client);

/// True when a Host header value names the loopback: "localhost",
/// "127.0.0.2:8080", "[::1]:8080" (a port, a trailing dot and case ignored).
bool is_loopback_host(std::string_view host);

/// What the Secure attribute of session cookies depends on.
struct cookie_context {
  bool always_secure = false;  ///< gateway.secure_cookies
  bool https = false;          ///< the request says it came over https
  /// The Host header; without one the peer address decides.
  std::optional<std::string_view> host;
  std::string_view peer;  ///< the socket's peer address
};

/// Session cookies are Secure except on plain http to the loopback (a local
/// developer's browser, which would drop Secure cookies over http): a cookie
/// sent in the clear anywhere else can be read on the way.
bool cookies_secure(const cookie_context& context);

}  // namespace reelfarm::gateway
