#pragma once

#include <memory>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/result.hpp"
#include "reelfarm/store/embedded_options.hpp"
#include "reelfarm/store/embedded_postgres.hpp"
#include "reelfarm/store/embedded_redis.hpp"

namespace reelfarm {

/// The embedded default: a private PostgreSQL and Redis in one data folder,
/// guarded by `<data_dir>/reelfarm.lock` so that two processes never run
/// servers on the same data. Servers left running by a crashed process (its
/// lock died with it) are stopped and started anew, keeping their data.
/// `<data_dir>/run/services.json` (mode 0600) tells other local processes and
/// the tests where the servers answer.
class embedded_services {
 public:
  /// Takes the lock, starts PostgreSQL then Redis and waits for both.
  static result<std::unique_ptr<embedded_services>> start(const embedded_options& options);

  /// Stops Redis, then PostgreSQL, unless detached.
  ~embedded_services();
  embedded_services(const embedded_services&) = delete;
  embedded_services& operator=(const embedded_services&) = delete;

  const server_endpoint& postgres() const noexcept { return postgres_.endpoint(); }
  const server_endpoint& redis() const noexcept { return redis_.endpoint(); }
  const embedded_options& options() const noexcept { return options_; }

  /// The secret kept in `<data_dir>/secrets/<name>` (mode 0600), generated on
  /// first use: keys that must outlive a restart, like the gateway's token
  /// signing key, live beside the servers' passwords.
  result<std::string> secret(const std::string& name) const;

  /// Stops both servers; the first error is returned, both are attempted.
  result<void> stop();
  /// Leaves both servers running after this process exits.
  void detach() noexcept;

  /// Stops servers left running in the data folder (by a crash, or by a
  /// detached start). Fails when a live reelfarm process holds the folder.
  static result<void> stop_leftovers(const embedded_options& options);

 private:
  embedded_services(embedded_options options, file_lock lock, embedded_postgres postgres,
                    embedded_redis redis);
  embedded_options options_;
  file_lock lock_;
  embedded_postgres postgres_;
  embedded_redis redis_;
  bool stopped_ = false;
};

}  // namespace reelfarm
