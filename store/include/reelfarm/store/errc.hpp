#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of the store module: the PostgreSQL and Redis servers and data.
enum class store_errc {
  data_dir = 1,       ///< the data folder cannot be used
  server_start,       ///< an embedded server did not start or answer
  server_stop,        ///< an embedded server did not stop
  connection,         ///< a server cannot be reached or refused the credentials
  migration_newer,    ///< the database schema is newer than this binary
  migration_changed,  ///< an applied migration differs from the bundled one
  migration_failed,   ///< a migration's SQL failed; nothing was applied
  query,              ///< a statement failed
  redis,              ///< a Redis command failed
  invalid_url,        ///< a DSN or URL cannot be parsed
};

std::string_view category_of(store_errc) noexcept;
std::string_view to_string(store_errc code) noexcept;

}  // namespace reelfarm
