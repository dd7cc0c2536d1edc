#pragma once

#include <chrono>
#include <random>

namespace reelfarm::crm {

/// Capped exponential backoff with "equal jitter": attempt n waits between
/// half and all of min(cap, base * 2^n), so retries of many instances spread
/// out instead of arriving together.
class backoff_policy {
 public:
  backoff_policy(std::chrono::milliseconds base, std::chrono::milliseconds cap,
                 std::uint64_t seed = std::random_device{}())
      : base_(base), cap_(cap), rng_(seed) {}

  /// The wait before retry number `attempt` (0 = the first retry).
  std::chrono::milliseconds delay(int attempt);

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  std::mt19937_64 rng_;
};

}  // namespace reelfarm::crm
