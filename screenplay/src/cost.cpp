#include "reelfarm/screenplay/cost.hpp"

#include <cstdio>

#include "reelfarm/screenplay/errc.hpp"

namespace reelfarm::screenplay {

std::int64_t cost_credits(std::chrono::milliseconds duration) noexcept {
  const std::int64_t ms = duration.count();
  if (ms <= 0) {
    return 0;
  }
  const std::int64_t started_minutes = (ms + 59'999) / 60'000;
  return started_minutes * credits_per_started_minute;
}

result<void> check_max_length(std::chrono::milliseconds duration,
                              std::chrono::milliseconds maximum) {
  if (duration <= maximum) {
    return ok();
  }
  return error(screenplay_errc::too_long,
               "the planned film lasts " + format_minutes_seconds(duration) +
                   ", longer than the plan's maximum of " + format_minutes_seconds(maximum) +
                   " per video; shorten the screenplay or choose a plan with longer videos");
}

std::string format_minutes_seconds(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count() < 0 ? 0 : duration.count();
  const std::int64_t seconds = (ms + 999) / 1000;
  char buffer[48];
  if (seconds >= 3600) {
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld",
                  static_cast<long long>(seconds / 3600), static_cast<long long>(seconds / 60 % 60),
                  static_cast<long long>(seconds % 60));
  } else {
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld", static_cast<long long>(seconds / 60),
                  static_cast<long long>(seconds % 60));
  }
  return buffer;
}

}  // namespace reelfarm::screenplay
