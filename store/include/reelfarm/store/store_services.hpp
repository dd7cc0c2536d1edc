#pragma once

#include <memory>
#include <string>

#include "reelfarm/common/config.hpp"
#include "reelfarm/common/result.hpp"
#include "reelfarm/store/embedded_services.hpp"
#include "reelfarm/store/migrations.hpp"

namespace reelfarm {

/// The PostgreSQL and Redis one process works with: the servers named in the
/// configuration, or, where none is named, embedded ones it starts and stops.
/// Opening applies the bundled migrations.
class store_services {
 public:
  /// Starts what is missing, checks that both servers answer, migrates.
  static result<std::unique_ptr<store_services>> open(const config& cfg);

  const std::string& postgres_dsn() const noexcept { return postgres_dsn_; }
  const std::string& redis_url() const noexcept { return redis_url_; }
  /// The embedded servers, or nullptr when both are external.
  embedded_services* embedded() const noexcept { return embedded_.get(); }
  const migration_report& migrations() const noexcept { return migrations_; }
  const std::string& postgres_version() const noexcept { return postgres_version_; }
  const std::string& redis_version() const noexcept { return redis_version_; }

  /// Stops the embedded servers, if any.
  result<void> stop();

 private:
  store_services() = default;
  std::unique_ptr<embedded_services> embedded_;
  std::string postgres_dsn_;
  std::string redis_url_;
  std::string postgres_version_;
  std::string redis_version_;
  migration_report migrations_;
};

}  // namespace reelfarm
