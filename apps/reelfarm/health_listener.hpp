#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "reelfarm/common/result.hpp"

namespace reelfarm::app {

/// A tiny HTTP/1.0 listener for the processes that have no gateway (`serve
/// --role coordinator --health-port PORT`), so that a supervisor or a
/// Kubernetes Service can tell the leader from a standby:
///   GET /healthz, /api/v1/healthz  200 while the process runs (liveness)
///   GET /readyz,  /api/v1/readyz   200 when `ready()`, else 503 (readiness:
///                                  the leader; a standby is alive, not ready)
///   GET /metrics                   the Prometheus registry
/// One connection at a time on one thread: probes and scrapes are rare.
class health_listener {
 public:
  /// Listens on `spec` ([HOST:]PORT; HOST defaults to 0.0.0.0; port 0 picks a
  /// free one, see `port()`).
  static result<std::unique_ptr<health_listener>> start(const std::string& spec,
                                                        std::function<bool()> ready,
                                                        std::string role);
  ~health_listener();
  health_listener(const health_listener&) = delete;
  health_listener& operator=(const health_listener&) = delete;

  /// The port actually bound.
  int port() const noexcept { return port_; }

 private:
  health_listener(int fd, int port, std::function<bool()> ready, std::string role);
  void serve();
  void answer(int client);

  int fd_;
  int port_;
  std::function<bool()> ready_;
  std::string role_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace reelfarm::app
