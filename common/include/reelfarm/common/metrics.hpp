#pragma once

#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"

/// Prometheus metrics shared by every process (issue #9).
///
/// One registry per process: each module registers its families in it from
/// its own *_probe / *_metrics file, and whoever serves /metrics (the
/// gateway route, the coordinator's or the node's Exposer) serialises it.
/// Names follow the Prometheus conventions: one `reelfarm_` prefix, base
/// units, `_total` counters, `_seconds` histograms, and never a user id or an
/// email address as a label value.
namespace reelfarm::metrics {

/// The process-wide registry every module registers its families in.
prometheus::Registry& registry();

/// The registry in the Prometheus text exposition format 0.0.4 (what /metrics serves).
std::string scrape_text();

/// reelfarm_build_info{version,...} 1, registered once (idempotent).
void register_build_info(const std::string& version);

/// Bucket bounds in seconds for latencies from 0.5 ms to 10 s (HTTP
/// requests, ledger operations): a common set so dashboards can compare them.
const std::vector<double>& latency_buckets();

/// Bucket bounds in seconds for farm durations from 0.05 s to 1 h (time to
/// book a shot, shot render time).
const std::vector<double>& duration_buckets();

/// An HTTP listener serving `registry()` at /metrics (prometheus-cpp's
/// Exposer) for the processes without the gateway: `reelfarm coordinator` and
/// `reelfarm node`. Stops listening when destroyed.
class endpoint {
 public:
  /// Listens on `address:port` (port 0: any free one, see `port()`).
  static result<std::unique_ptr<endpoint>> serve(const std::string& address, int port);
  ~endpoint();
  endpoint(const endpoint&) = delete;
  endpoint& operator=(const endpoint&) = delete;

  /// The port actually bound.
  int port() const noexcept { return port_; }

 private:
  struct impl;
  explicit endpoint(std::unique_ptr<impl> state, int port);
  std::unique_ptr<impl> impl_;
  int port_ = 0;
};

/// For a `--metrics-port [HOST:]PORT` flag: serves the registry there (HOST
/// defaults to 0.0.0.0 so a Prometheus on another machine can scrape it).
/// Empty or "0": no listener, a null pointer; "HOST:0": a port the OS picks,
/// logged as `metrics listening port=N`. A malformed flag or a port that
/// cannot be bound is an error.
result<std::unique_ptr<endpoint>> serve_flag(const std::string& spec);

}  // namespace reelfarm::metrics
