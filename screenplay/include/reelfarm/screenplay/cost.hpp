#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "reelfarm/common/result.hpp"

namespace reelfarm::screenplay {

/// Credits charged for every started minute of planned film.
inline constexpr std::int64_t credits_per_started_minute = 3;

/// The price of a film of `duration`: 3 credits per started minute
/// (30 s: 3, 60 s: 3, 61 s: 6, 150 s: 9, 5 min: 15, nothing: 0).
std::int64_t cost_credits(std::chrono::milliseconds duration) noexcept;

/// Fails with screenplay_errc::too_long when the planned film is longer than
/// the plan's maximum video length; the message names both lengths.
result<void> check_max_length(std::chrono::milliseconds duration,
                              std::chrono::milliseconds maximum);

/// "1:05" for 65 s, "1:02:03" past an hour; seconds rounded up, as charged.
std::string format_minutes_seconds(std::chrono::milliseconds duration);

}  // namespace reelfarm::screenplay
