#pragma once

#include <memory>

#include "reelfarm/common/result.hpp"
#include "reelfarm/gateway/api.hpp"
#include "reelfarm/gateway/gateway_options.hpp"

namespace reelfarm::gateway {

struct server_impl;

/// The HTTP/1.1 server (Boost.Beast on Asio) in front of `api`.
///
/// - `options.io_threads` threads run the sockets; handlers that block
///   (PostgreSQL, Argon2id) run on `options.blocking_threads` others.
/// - Keep-alive; pipelined requests are answered one at a time, in order.
/// - Header at most `header_limit` bytes (431), body at most the route's
///   limit (413, refused from Content-Length before reading the body).
/// - Timeouts: the whole header must arrive within `header_timeout` of its
///   first byte (slowloris), the body within `body_timeout`; an idle
///   keep-alive connection is closed after `idle_timeout`.
/// - Streaming responses (SSE, large downloads) run on threads of their own:
///   at most `max_streams`, and `max_streams_per_user` per stream owner
///   (429 too_many_streams); their sends wait for room with a deadline.
/// - `stop()` stops accepting, closes idle connections, lets requests being
///   handled finish and answer (with Connection: close), waits up to
///   `drain_timeout`; streams end on their own within about a second, and
///   those still open after another `drain_timeout` have their connections
///   cut; then it stops the threads.
class http_server {
 public:
  /// Binds host:port (port 0 picks one) and starts the threads.
  static result<std::unique_ptr<http_server>> start(const gateway_options& options,
                                                    const gateway_backends& backends);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// The port it listens on.
  int port() const noexcept;
  /// Graceful stop (see above); idempotent, also run by the destructor.
  void stop();
  /// The API it serves.
  gateway::api& api() noexcept;

 private:
  explicit http_server(std::unique_ptr<server_impl> impl);
  std::unique_ptr<server_impl> impl_;
};

}  // namespace reelfarm::gateway
