#pragma once

#include "reelfarm/common/process.hpp"
#include "reelfarm/common/result.hpp"
#include "reelfarm/store/embedded_options.hpp"
#include "reelfarm/store/server_endpoint.hpp"

namespace reelfarm {

/// A private PostgreSQL server on a loopback port, its cluster in
/// `<data_dir>/postgres`. The first start runs initdb with a generated
/// password (kept in `<data_dir>/secrets/`); later starts reuse the cluster.
/// A server left running by a crashed reelfarm is stopped and started anew.
class embedded_postgres {
 public:
  /// Starts the server and waits until it accepts connections, creating the
  /// `reelfarm` database if needed.
  static result<embedded_postgres> start(const embedded_options& options);

  embedded_postgres(embedded_postgres&&) noexcept = default;
  embedded_postgres& operator=(embedded_postgres&&) noexcept = default;
  /// Stops the server unless it was detached.
  ~embedded_postgres();

  const server_endpoint& endpoint() const noexcept { return endpoint_; }
  /// Fast shutdown (SIGINT), escalating to SIGQUIT/SIGKILL after the timeout.
  result<void> stop();
  /// Leaves the server running after this object is gone.
  void detach() noexcept;

  /// Stops a server left running in `options.data_dir`, if any.
  static result<void> stop_leftover(const embedded_options& options);

 private:
  embedded_postgres() = default;
  /// Starts the server on a free port and waits until it is ready; picks
  /// another port when the chosen one was taken before the server bound it.
  result<int> launch();
  embedded_options options_;
  child_process process_;
  server_endpoint endpoint_;
  bool detached_ = false;
};

}  // namespace reelfarm
