#pragma once

#include <filesystem>
#include <string>

#include "reelfarm/store/embedded_options.hpp"

namespace reelfarm::testing {

/// Where the test run's PostgreSQL and Redis answer.
struct test_endpoints {
  std::string postgres_dsn;
  std::string redis_url;
};

/// The servers of this test run: those the CTest `services` fixture started
/// (REELFARM_TEST_SERVICES names its state file), or, when a test binary runs
/// on its own, private ones started on first use and stopped at exit.
const test_endpoints& test_services();

/// Embedded-server options for tests: data in `dir`, no fsync, the
/// unprivileged `postgres` account when running as root.
embedded_options test_embedded_options(const std::filesystem::path& dir);

/// An empty database of its own on the test server, dropped on destruction,
/// so tests never see each other's rows.
class scratch_database {
 public:
  /// `migrated`: apply the bundled migrations first.
  explicit scratch_database(bool migrated = true);
  ~scratch_database();
  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;

  const std::string& name() const noexcept { return name_; }
  /// A DSN for this database.
  const std::string& dsn() const noexcept { return dsn_; }

 private:
  std::string name_;
  std::string dsn_;
};

}  // namespace reelfarm::testing
