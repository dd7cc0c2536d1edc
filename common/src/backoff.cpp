#include "reelfarm/common/backoff.hpp"

#include <algorithm>
#include <thread>

namespace reelfarm {

std::chrono::milliseconds backoff::delay(int attempt) {
  const auto shift = std::clamp(attempt, 0, 20);
  const auto full = std::min<std::int64_t>(cap_.count(), base_.count() << shift);
  if (full <= 1) {
    return std::chrono::milliseconds(full);
  }
  std::uniform_int_distribution<std::int64_t> jitter(full / 2, full);
  return std::chrono::milliseconds(jitter(rng_));
}

bool backoff::wait(int attempt, const std::function<bool()>& stop) {
  const auto until = std::chrono::steady_clock::now() + delay(attempt);
  while (std::chrono::steady_clock::now() < until) {
    if (stop && stop()) {
      return false;
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(50), until - std::chrono::steady_clock::now()));
  }
  return !(stop && stop());
}

}  // namespace reelfarm
