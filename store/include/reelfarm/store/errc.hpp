#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of the store module: the PostgreSQL and Redis servers and data.
enum class store_errc {
  data_dir = 1,          ///< the data folder cannot be used
  server_start,          ///< an embedded server did not start or answer
  server_stop,           ///< an embedded server did not stop
  connection,            ///< a server cannot be reached or refused the credentials
  migration_newer,       ///< the database schema is newer than this binary
  migration_changed,     ///< an applied migration differs from the bundled one
  migration_failed,      ///< a migration's SQL failed; nothing was applied
  query,                 ///< a statement failed
  redis,                 ///< a Redis command failed
  invalid_url,           ///< a DSN or URL cannot be parsed
  insufficient_credits,  ///< the balance does not cover a charge; nothing was written
  duplicate_email,       ///< another user already has this email (case-insensitively)
  not_found,             ///< the user, job or charge does not exist
  conflict,              ///< an idempotency key, job or payment was already used differently
  job_cancelled,         ///< the job was cancelled: no charge before start, no refund after
  plan_file,             ///< the plans file cannot be read or is not valid
  invalid_argument,      ///< a value given by the caller is not acceptable
  password,              ///< hashing or verifying a password failed (or it did not match)
};

std::string_view category_of(store_errc) noexcept;
std::string_view to_string(store_errc code) noexcept;

}  // namespace reelfarm
