#pragma once

#include <chrono>
#include <functional>
#include <random>

namespace reelfarm {

/// Capped exponential backoff with "equal jitter", as Google and Stripe ask of
/// clients retrying 5xx and network errors: attempt n waits between half
/// and all of min(cap, base * 2^n).
class backoff {
 public:
  backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap,
          std::uint64_t seed = std::random_device{}())
      : base_(base), cap_(cap), rng_(seed) {}

  /// The wait before retry number `attempt` (0 = the first retry).
  std::chrono::milliseconds delay(int attempt);

  /// Sleeps `delay(attempt)` in short steps; false as soon as `stop()` says so.
  bool wait(int attempt, const std::function<bool()>& stop);

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  std::mt19937_64 rng_;
};

}  // namespace reelfarm
