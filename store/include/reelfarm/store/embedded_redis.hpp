#pragma once

#include "reelfarm/common/process.hpp"
#include "reelfarm/common/result.hpp"
#include "reelfarm/store/embedded_options.hpp"
#include "reelfarm/store/server_endpoint.hpp"

namespace reelfarm {

/// A private Redis server on a loopback port with a generated password, its
/// data in `<data_dir>/redis` (append-only file when durable).
class embedded_redis {
 public:
  /// Starts the server and waits until it answers PING.
  static result<embedded_redis> start(const embedded_options& options);

  embedded_redis(embedded_redis&&) noexcept = default;
  embedded_redis& operator=(embedded_redis&&) noexcept = default;
  /// Stops the server unless it was detached.
  ~embedded_redis();

  const server_endpoint& endpoint() const noexcept { return endpoint_; }
  /// SIGTERM (Redis saves and exits), escalating to SIGKILL after the timeout.
  result<void> stop();
  /// Leaves the server running after this object is gone.
  void detach() noexcept;

  /// Stops a server left running in `options.data_dir`, if any.
  static result<void> stop_leftover(const embedded_options& options);

 private:
  embedded_redis() = default;
  /// Starts the server on a free port and waits until it answers; picks
  /// another port when the chosen one was taken before the server bound it.
  result<int> launch(const std::string& password);
  embedded_options options_;
  child_process process_;
  server_endpoint endpoint_;
  bool detached_ = false;
};

}  // namespace reelfarm
