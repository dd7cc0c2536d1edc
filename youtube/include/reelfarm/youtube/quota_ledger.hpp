#pragma once

#include <cstdint>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/pg_pool.hpp"

namespace reelfarm::youtube {

/// What is left of today's quota.
struct quota_left {
  std::int64_t uploads = 0;  ///< videos.insert calls
  std::int64_t units = 0;
  std::string day;  ///< the quota day, YYYY-MM-DD (Pacific Time)
};

/// The YouTube Data API quota of the farm's Google Cloud project, shared by
/// every user and every coordinator, in PostgreSQL (youtube_quota). A call is
/// reserved before it is made; a reservation that would exceed the day's
/// allowance fails with youtube_errc::quota_exceeded and nothing is spent.
/// The quota day runs midnight to midnight Pacific Time, as Google counts.
/// Thread-safe.
class quota_ledger {
 public:
  quota_ledger(pg_pool& pool, std::int64_t daily_uploads, std::int64_t daily_units)
      : pool_(pool), daily_uploads_(daily_uploads), daily_units_(daily_units) {}

  /// One videos.insert call (a new upload session) from its own bucket.
  result<void> reserve_upload();
  /// `units` for the call `call` (e.g. "thumbnails.set").
  result<void> reserve_units(std::int64_t units, const std::string& call);
  /// Today's remainder.
  result<quota_left> left();

 private:
  result<void> reserve(const char* bucket, std::int64_t amount, std::int64_t limit,
                       const std::string& call);

  pg_pool& pool_;
  std::int64_t daily_uploads_;
  std::int64_t daily_units_;
};

}  // namespace reelfarm::youtube
