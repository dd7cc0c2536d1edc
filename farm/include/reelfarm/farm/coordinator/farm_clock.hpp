#pragma once

#include <chrono>

namespace reelfarm::farm {

/// The time the farm's timing rules run on. The coordinator uses the steady
/// clock; tests and the benchmark move a manual one by hand, so every TTL
/// rule is tested without sleeping.
class farm_clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  virtual ~farm_clock() = default;
  /// The current time.
  virtual time_point now() const = 0;
};

/// The real monotonic clock.
class steady_farm_clock final : public farm_clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
};

/// A clock that only moves when told to.
class manual_clock final : public farm_clock {
 public:
  time_point now() const override { return now_; }
  /// Moves time forward by `d`.
  void advance(std::chrono::milliseconds d) { now_ += d; }
  /// Sets the time (never backwards in practice).
  void set(time_point t) { now_ = t; }

 private:
  time_point now_{std::chrono::hours(1)};
};

}  // namespace reelfarm::farm
