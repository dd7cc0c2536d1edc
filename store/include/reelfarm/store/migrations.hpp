#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <pqxx/connection>

#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// One versioned SQL migration (store/migrations/NNNN_name.sql).
struct migration {
  int version = 0;
  std::string name;  ///< the file name without .sql, e.g. "0001_foundation"
  std::string_view sql;
  std::string checksum;  ///< SHA-256 of the SQL, hex
};

/// The migrations bundled into this binary, by version.
const std::vector<migration>& bundled_migrations();

/// Builds migrations from {file name, SQL} pairs; names must be NNNN_word.sql
/// with unique, increasing versions.
result<std::vector<migration>> make_migrations(
    const std::vector<std::pair<std::string_view, std::string_view>>& files);

/// What `migrate` did.
struct migration_report {
  int from_version = 0;              ///< schema version before
  int to_version = 0;                ///< schema version after
  std::vector<std::string> applied;  ///< names, in order
};

/// Brings the database to the newest of `migrations` in one transaction,
/// under an advisory lock so concurrent start-ups apply each migration once.
/// Refuses a database whose schema is newer than `migrations`, or whose
/// applied migrations differ from ours (checksums); on any failure nothing
/// is applied.
result<migration_report> migrate(pqxx::connection& conn, const std::vector<migration>& migrations);

/// The schema version recorded in the database (0 when none).
result<int> schema_version(pqxx::connection& conn);

}  // namespace reelfarm
