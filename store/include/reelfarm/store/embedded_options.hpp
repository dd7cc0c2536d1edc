#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "reelfarm/common/config.hpp"
#include "reelfarm/common/process.hpp"

namespace reelfarm {

/// How the embedded PostgreSQL and Redis are started.
struct embedded_options {
  std::filesystem::path data_dir;
  std::optional<account> run_as;  ///< set when running as root
  std::string postgres_bin_dir = "/usr/lib/postgresql/15/bin";
  std::string redis_server = "/usr/bin/redis-server";
  std::chrono::milliseconds start_timeout{60000};
  std::chrono::milliseconds stop_timeout{30000};
  /// false trades crash safety of the OS for speed (fsync off): tests only.
  bool durable = true;
  /// true leaves the servers running when the process exits (the test
  /// fixture's `up`); `embedded_services::stop_leftovers` stops them later.
  bool detach = false;
};

/// The default data folder: ~/.reelfarm, or /var/lib/reelfarm for root, whose
/// home the unprivileged server account cannot enter.
std::filesystem::path default_data_dir();

/// Options from the `embedded` section of the configuration: resolves the data
/// folder and, when running as root, the account the servers run as.
result<embedded_options> embedded_options_from(const embedded_settings& settings);

}  // namespace reelfarm
