#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/protocol/messages.hpp"

namespace reelfarm::farm {

/// One lease as a backend sees it.
struct render_job {
  lease_offer_msg offer;
  std::filesystem::path work_dir;  ///< empty folder of this lease
};

/// What a finished render produced.
struct render_output {
  std::string artifact;  ///< path of the segment
  std::string checksum;  ///< "sha256:<hex>"
  std::int64_t duration_ms = 0;
  std::int64_t took_ms = 0;  ///< wall time of the render on this node, when known
  std::string provider_job;  ///< the provider's id of the job (HTTP backends)
  double billed_s = 0;       ///< compute time the provider reports it charges for
};

/// Progress reports: percent and the current step.
using progress_fn = std::function<void(int percent, const std::string& step)>;

/// A way to render a shot on a node: `prepare` checks and stages the inputs
/// (before the lease is accepted), `run` renders with progress and
/// cancellation, fetches what a provider made and encodes it, and reports
/// cost and time in `render_output`. `run` blocks on the agent's worker
/// thread; it polls `cancel` and stops promptly when it turns true. A failure
/// with farm_errc::invalid_argument is not retryable (bad input); any other
/// error is retryable elsewhere.
class render_backend {
 public:
  virtual ~render_backend() = default;
  /// The backend name nodes advertise, e.g. "animatic".
  virtual const std::string& name() const = 0;
  /// Checks and stages what the lease needs before it is accepted.
  virtual result<void> prepare(const render_job& job) = 0;
  /// Renders; returns the result or why not.
  virtual result<render_output> run(const render_job& job, const progress_fn& progress,
                                    const std::atomic<bool>& cancel) = 0;
};

}  // namespace reelfarm::farm
