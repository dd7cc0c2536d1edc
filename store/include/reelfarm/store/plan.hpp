#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace reelfarm {

/// One subscription plan (config/plans.yaml).
struct plan {
  std::string name;          ///< the key users.plan holds, e.g. "pro"
  std::string display_name;  ///< e.g. "Pro"
  std::int64_t price_cents = 0;
  /// Credits granted at each monthly renewal; nullopt = unlimited credits.
  std::optional<std::int64_t> monthly_credits;
  /// Longest video a render may produce; zero = no limit.
  std::chrono::seconds max_video{0};
  bool watermark = false;
  bool priority = false;

  /// True for plans whose charges move no credits (enterprise).
  bool unlimited() const noexcept { return !monthly_credits.has_value(); }
  /// What a plan is worth in credits for comparisons (unlimited counts as the most).
  std::int64_t credit_rank() const noexcept { return monthly_credits.value_or(INT64_MAX); }
};

/// The price of a render: 3 credits per started minute of finished video
/// (30 s → 3, 60 s → 3, 150 s → 9, 5 min → 15); a zero-length video costs nothing.
std::int64_t credits_for_duration(std::chrono::milliseconds duration) noexcept;

}  // namespace reelfarm
