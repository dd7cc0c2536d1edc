#pragma once

#include <cstdint>

namespace reelfarm::farm {

/// Counters of the lease manager, kept apart from its logic so metrics
/// exporters (issue #9) read them without reaching into the scheduler.
struct farm_probe {
  std::uint64_t leases_granted = 0;
  std::uint64_t leases_done = 0;
  std::uint64_t leases_failed = 0;
  std::uint64_t leases_expired = 0;
  std::uint64_t leases_rejected = 0;
  std::uint64_t leases_cancelled = 0;
  std::uint64_t stale_results = 0;  ///< late results with an old epoch, refused
  std::uint64_t nodes_lost = 0;
  std::uint64_t shots_failed = 0;
  std::uint64_t blocklisted = 0;  ///< (job, node) pairs blocklisted
  std::uint64_t protocol_errors = 0;
};

}  // namespace reelfarm::farm
