#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace reelfarm::gateway {

/// Requests allowed per window (one minute) for one subject; 0 disables.
struct rate_limit {
  int per_user = 600;     ///< authenticated requests per user and endpoint
  int per_ip = 1200;      ///< unauthenticated requests per client address and endpoint
  int login_per_ip = 10;  ///< login, register and refresh attempts per address
  std::chrono::seconds window{60};
};

/// Everything the gateway needs beyond the `gateway` config section (host,
/// port). Keys the configuration does not have yet are documented in
/// docs/api.md; until then callers fill this struct.
struct gateway_options {
  std::string host = "127.0.0.1";
  int port = 8080;  ///< 0 picks a free port (tests)
  int io_threads = 2;
  int blocking_threads = 8;  ///< PostgreSQL and Argon2id work runs here, not on I/O threads

  std::size_t header_limit = 8 * 1024;
  std::size_t json_body_limit = 1024 * 1024;
  std::size_t upload_body_limit = 16 * 1024 * 1024;  ///< projects: screenplays
  std::chrono::milliseconds header_timeout{10'000};  ///< whole header, from its first byte
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{75'000};  ///< keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds drain_timeout{10'000};  ///< graceful stop: in-flight requests
  std::size_t max_connections = 20'000;
  /// Connections handed to a stream of their own (SSE followers, large
  /// downloads), each on a thread; more are answered 503.
  std::size_t max_streams = 256;

  /// HS256 key (at least 32 bytes). Empty: a random key per process, so
  /// tokens do not survive a restart (fine for tests, warned in logs).
  std::string jwt_secret;
  std::string jwt_issuer = "reelfarm";
  std::chrono::seconds access_ttl{24 * 3600};
  std::chrono::seconds refresh_ttl{30 * 24 * 3600};
  /// Lifetime of the access token a browser session (the web console) gets
  /// in its HttpOnly cookie: short, as the console refreshes it silently.
  std::chrono::seconds cookie_access_ttl{15 * 60};
  /// Marks session cookies Secure even when the request does not say it came
  /// over https (X-Forwarded-Proto, an https Origin); set behind TLS proxies
  /// that send neither.
  bool secure_cookies = false;
  /// The Grafana dashboards the console links operators to; empty: no link.
  std::string grafana_url;

  /// Origins allowed by CORS; "*" allows any. Empty: no CORS headers.
  std::vector<std::string> cors_origins;
  rate_limit limits;
  /// Lets creators top up their own credits with a payment reference. Off
  /// until a payment provider verifies references; admins can always grant.
  bool allow_self_topup = false;
  /// Argon2id cost for new passwords (0 ops: the store's default).
  unsigned long long password_ops = 0;
  std::size_t password_memory = 0;
};

}  // namespace reelfarm::gateway
