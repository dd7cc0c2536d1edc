#include "reelfarm/store/migrations.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <pqxx/pqxx>

#include "reelfarm/common/log.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm {

// Generated from store/migrations/*.sql by cmake/embed_files.cmake.
namespace generated {
const std::vector<std::pair<std::string_view, std::string_view>>& migration_files();
}

namespace {

// Any fixed number works; it only has to be the same in every process.
constexpr long long migration_lock_key = 0x7265656c6661726dLL;  // "reelfarm"

std::string sha256_hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

}  // namespace

result<std::vector<migration>> make_migrations(
    const std::vector<std::pair<std::string_view, std::string_view>>& files) {
  std::vector<migration> out;
  for (const auto& [file, sql] : files) {
    auto bad = [&file = file](const std::string& why) {
      return error(store_errc::migration_failed,
                   "migration file '" + std::string(file) + "' " + why);
    };
    if (!file.ends_with(".sql") || file.size() < 10 || file[4] != '_') {
      return bad("must be named NNNN_name.sql");
    }
    int version = 0;
    auto [end, ec] = std::from_chars(file.data(), file.data() + 4, version);
    if (ec != std::errc() || end != file.data() + 4 || version <= 0) {
      return bad("must start with a four-digit version above 0000");
    }
    out.push_back({version, std::string(file.substr(0, file.size() - 4)), sql, sha256_hex(sql)});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.version < b.version; });
  for (size_t i = 1; i < out.size(); ++i) {
    if (out[i].version == out[i - 1].version) {
      return error(store_errc::migration_failed,
                   "migrations " + out[i - 1].name + " and " + out[i].name + " share a version");
    }
  }
  return out;
}

const std::vector<migration>& bundled_migrations() {
  static const std::vector<migration> all = [] {
    auto made = make_migrations(generated::migration_files());
    // The files are part of the build; a bad name is caught by the tests.
    return made ? std::move(made).value() : std::vector<migration>{};
  }();
  return all;
}

result<int> schema_version(pqxx::connection& conn) {
  try {
    pqxx::read_transaction tx(conn);
    auto exists = tx.exec1("SELECT to_regclass('public.schema_migrations') IS NOT NULL");
    if (!exists[0].as<bool>()) {
      return 0;
    }
    auto row = tx.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations");
    return row[0].as<int>();
  } catch (const std::exception& e) {
    return error(store_errc::query, std::string("cannot read the schema version: ") + e.what());
  }
}

result<migration_report> migrate(pqxx::connection& conn, const std::vector<migration>& migrations) {
  migration_report report;
  const migration* current = nullptr;
  try {
    pqxx::work tx(conn);
    tx.exec1("SELECT pg_advisory_xact_lock(" + std::to_string(migration_lock_key) + ")");
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version integer PRIMARY KEY,"
        " name text NOT NULL,"
        " checksum text NOT NULL,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    std::map<int, std::pair<std::string, std::string>> applied;
    for (const auto& row : tx.exec("SELECT version, name, checksum FROM schema_migrations")) {
      applied[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
    }
    report.from_version = applied.empty() ? 0 : applied.rbegin()->first;
    int newest_known = migrations.empty() ? 0 : migrations.back().version;
    if (report.from_version > newest_known) {
      return error(store_errc::migration_newer,
                   "the database schema is at version " + std::to_string(report.from_version) +
                       " (" + applied.rbegin()->second.first + "), newer than this binary knows (" +
                       std::to_string(newest_known) +
                       "); run a newer reelfarm or restore a matching backup");
    }
    for (const auto& m : migrations) {
      auto found = applied.find(m.version);
      if (found != applied.end()) {
        if (found->second.second != m.checksum) {
          return error(store_errc::migration_changed,
                       "migration " + m.name +
                           " was changed after it was applied to this "
                           "database; add a new migration instead of editing an applied one");
        }
        continue;
      }
      current = &m;
      tx.exec(std::string(m.sql));
      tx.exec_params0("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                      m.version, m.name, m.checksum);
      report.applied.push_back(m.name);
    }
    current = nullptr;
    tx.commit();
    report.to_version = std::max(report.from_version, newest_known);
  } catch (const std::exception& e) {
    std::string where = current != nullptr ? "migration " + current->name + " failed"
                                           : "applying migrations failed";
    return error(store_errc::migration_failed,
                 where + " and nothing was applied: " + std::string(e.what()));
  }
  for (const auto& name : report.applied) {
    log::info("store", "migration applied", {{"migration", name}});
  }
  return report;
}

}  // namespace reelfarm
