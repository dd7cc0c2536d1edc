#pragma once

#include <string>
#include <vector>

namespace reelfarm::farm {

/// `reelfarm bench scheduler --nodes N --shots M [--users U] [--seed S]`:
/// drives the real lease manager with N simulated nodes through the real
/// protocol encoder and decoder (in-process transport) and prints leases/s,
/// time-to-book p50/p99 for an idle fitting node, and lost-node detection
/// under heartbeat jitter. Returns a process exit code.
int run_scheduler_bench(const std::vector<std::string>& args);

}  // namespace reelfarm::farm
