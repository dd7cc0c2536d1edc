#include "reelfarm/youtube/quota_ledger.hpp"

#include <pqxx/pqxx>

#include "reelfarm/youtube/errc.hpp"

namespace reelfarm::youtube {

namespace {

constexpr const char* quota_day = "(now() AT TIME ZONE 'America/Los_Angeles')::date";

error failed(const char* what, const std::exception& e) {
  return error(youtube_errc::database, std::string("cannot ") + what + ": " + e.what());
}

}  // namespace

result<void> quota_ledger::reserve_upload() {
  return reserve("videos.insert", 1, daily_uploads_, "videos.insert");
}

result<void> quota_ledger::reserve_units(std::int64_t units, const std::string& call) {
  return reserve("units", units, daily_units_, call);
}

result<void> quota_ledger::reserve(const char* bucket, std::int64_t amount, std::int64_t limit,
                                   const std::string& call) {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    // One statement: concurrent reservations serialise on the row, and the
    // WHERE makes an over-limit one change nothing.
    auto rows = tx.exec_params(
        std::string("INSERT INTO youtube_quota (day, bucket, used) SELECT ") + quota_day +
            ", $1, $2::bigint WHERE $2::bigint <= $3::bigint "
            "ON CONFLICT (day, bucket) DO UPDATE SET used = youtube_quota.used + EXCLUDED.used "
            "WHERE youtube_quota.used + EXCLUDED.used <= $3::bigint RETURNING used",
        bucket, amount, limit);
    if (rows.empty()) {
      auto used = tx.exec_params(std::string("SELECT coalesce((SELECT used FROM youtube_quota "
                                             "WHERE day = ") +
                                     quota_day + " AND bucket = $1), 0)",
                                 bucket);
      const auto spent = used[0][0].as<std::int64_t>();
      const bool calls = std::string(bucket) == "videos.insert";
      return error(youtube_errc::quota_exceeded,
                   "YouTube quota exceeded: " + call + " needs " + std::to_string(amount) +
                       (calls ? " upload" : " units") + " but only " +
                       std::to_string(std::max<std::int64_t>(0, limit - spent)) + " of today's " +
                       std::to_string(limit) + (calls ? " uploads" : " units") +
                       " are left; the quota resets at midnight Pacific Time");
    }
    tx.commit();
    return ok();
  } catch (const pqxx::broken_connection& e) {
    conn->discard();
    return failed("reserve YouTube quota", e);
  } catch (const std::exception& e) {
    return failed("reserve YouTube quota", e);
  }
}

result<quota_left> quota_ledger::left() {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::nontransaction tx(**conn);
    auto row =
        tx.exec1(std::string("SELECT ") + quota_day +
                 "::text, coalesce((SELECT used FROM youtube_quota WHERE day = " + quota_day +
                 " AND bucket = 'videos.insert'), 0), coalesce((SELECT used FROM "
                 "youtube_quota WHERE day = " +
                 quota_day + " AND bucket = 'units'), 0)");
    quota_left q;
    q.day = row[0].as<std::string>();
    q.uploads = std::max<std::int64_t>(0, daily_uploads_ - row[1].as<std::int64_t>());
    q.units = std::max<std::int64_t>(0, daily_units_ - row[2].as<std::int64_t>());
    return q;
  } catch (const pqxx::broken_connection& e) {
    conn->discard();
    return failed("read the YouTube quota", e);
  } catch (const std::exception& e) {
    return failed("read the YouTube quota", e);
  }
}

}  // namespace reelfarm::youtube
