#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "reelfarm/billing/billing_options.hpp"

namespace reelfarm::gateway {

/// Login attempts per account (the email a login names, whether or not it
/// has an account, so the answers tell nothing about which exist). Password
/// guessing spread over many addresses passes the per-address limits; this
/// one counts where the guesses meet. Redis holds the counts.
struct login_backoff {
  /// Attempts without a success within `window` before the account locks;
  /// 0 disables. A success forgets them all.
  int attempts = 5;
  std::chrono::seconds window{15 * 60};
  /// The first lock; each attempt after a lock ended doubles the next one.
  std::chrono::seconds first_lock{30};
  /// No lock is longer, so nobody can lock another user out for good by
  /// guessing at their email: they get one attempt per `max_lock` at most.
  std::chrono::seconds max_lock{15 * 60};
};

/// Requests allowed per window (one minute) for one subject; 0 disables.
/// The subject of unauthenticated requests is the client address (behind
/// trusted proxies, see gateway_options::trusted_proxies); IPv6 clients
/// count per /64, which one user usually holds whole.
struct rate_limit {
  int per_user = 600;     ///< authenticated requests per user and endpoint
  int per_ip = 1200;      ///< unauthenticated requests per client address and endpoint
  int login_per_ip = 10;  ///< login, register and refresh attempts per address
  std::chrono::seconds window{60};
  login_backoff per_account;  ///< logins (and password checks) per account
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
  /// Graceful stop: in-flight requests, then again for streams, after which
  /// the streams still open are cut off.
  std::chrono::milliseconds drain_timeout{10'000};
  std::size_t max_connections = 20'000;
  /// Connections handed to a stream of their own (SSE followers, large
  /// downloads), each on a thread; more are answered 503.
  std::size_t max_streams = 256;
  /// Of those, how many one user may hold (the response's stream_owner);
  /// more are answered 429 too_many_streams.
  std::size_t max_streams_per_user = 8;
  /// A stream whose client accepts no bytes for this long is cut off
  /// (a download the client stopped reading must not hold a thread).
  std::chrono::milliseconds stream_stall_timeout{30'000};

  /// HS256 key (at least 32 bytes). Empty: a random key per process, so
  /// tokens do not survive a restart (fine for tests, warned in logs).
  std::string jwt_secret;
  /// Payments through Stripe (config section `billing`); off unless both
  /// keys are set: the billing routes answer 503 billing_disabled.
  billing::billing_options billing;
  std::string jwt_issuer = "reelfarm";
  /// An API client refreshes with its refresh token (ctl does by itself); a
  /// short life bounds a leaked token even where revocation cannot reach it.
  std::chrono::seconds access_ttl{3600};
  std::chrono::seconds refresh_ttl{30 * 24 * 3600};
  /// Lifetime of the access token a browser session (the web console) gets
  /// in its HttpOnly cookie: short, as the console refreshes it silently.
  std::chrono::seconds cookie_access_ttl{15 * 60};
  /// How long a user's role and token version are cached by the access-token
  /// check: a revocation (logout-all, password or role change, deletion)
  /// made elsewhere takes effect on this gateway within this time; one made
  /// through this gateway at once. 0: read PostgreSQL on every request.
  std::chrono::milliseconds token_check_ttl{5000};
  /// Session cookies are Secure unless the request is plain http to a
  /// loopback host (127.0.0.0/8, ::1, localhost: a local developer's
  /// browser); this marks them Secure even then, for TLS proxies on the same
  /// machine that rewrite Host to the loopback and send no X-Forwarded-Proto.
  bool secure_cookies = false;
  /// The Grafana dashboards the console links operators to; empty: no link.
  std::string grafana_url;

  /// Origins allowed by CORS; "*" allows any. Empty: no CORS headers.
  std::vector<std::string> cors_origins;
  /// Reverse proxies whose X-Forwarded-For is believed, as CIDR networks or
  /// addresses ("10.0.0.0/8", "::1"). Only when the socket's peer is inside
  /// one is the header read: from the right, the first address that is not
  /// itself a trusted proxy is the client. Empty: the peer is the client.
  /// An entry that is not a network fails api::create, naming it.
  std::vector<std::string> trusted_proxies;
  rate_limit limits;
  /// Argon2id cost for new passwords (0 ops: the store's default).
  unsigned long long password_ops = 0;
  std::size_t password_memory = 0;
};

}  // namespace reelfarm::gateway
