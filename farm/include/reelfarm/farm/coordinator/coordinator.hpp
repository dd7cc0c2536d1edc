#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/coordinator/farm_probe.hpp"
#include "reelfarm/farm/coordinator/farm_types.hpp"
#include "reelfarm/farm/coordinator/lease_manager.hpp"
#include "reelfarm/farm/protocol/farm_credentials.hpp"

namespace reelfarm::farm {

/// How a coordinator runs (future config section `farm`).
struct coordinator_options {
  std::string bind = "tcp://127.0.0.1:7700";  ///< farm.bind; port 0 or *: the OS picks one
  lease_timing timing;                        ///< farm.heartbeat, farm.lease_ttl
  std::string postgres_dsn;                   ///< empty: nothing persisted (tests, bench)
  std::chrono::milliseconds poll{20};         ///< longest wait for a frame per loop turn
  /// Where the operator credentials are kept for `ctl` and gateways on this
  /// machine (DATA_DIR/secrets/farm-operator.json); empty: kept in memory.
  std::filesystem::path operator_key_file;
};

/// The coordinator process loop: one ZeroMQ ROUTER socket, a lease manager,
/// and PostgreSQL persistence, all on the thread that calls `run`. The
/// socket speaks CURVE only: a ZAP handler on the loop admits enrolled keys
/// (and unknown keys that may only enrol with a join token); frames are
/// checked against the key that sent them. Frames from nodes are untrusted;
/// each bad one is answered with an error frame and logged. Other threads talk to it only through
/// `post`, `submit`, `cancel` and `take_outcomes`, which are thread-safe.
class coordinator {
 public:
  /// Binds the socket, connects to PostgreSQL, expires leases left open by a
  /// previous coordinator.
  static result<std::unique_ptr<coordinator>> create(coordinator_options options);
  ~coordinator();
  coordinator(const coordinator&) = delete;
  coordinator& operator=(const coordinator&) = delete;

  /// Serves until `stop()` returns true (checked every poll interval).
  void run(const std::function<bool()>& stop);

  /// Where the socket is bound, with the port the OS chose for a bind to
  /// port 0, e.g. "tcp://127.0.0.1:41235".
  const std::string& endpoint() const noexcept;

  /// A join token for new nodes, valid for `ttl` (thread-safe): what
  /// `reelfarm render` and `serve` hand their local nodes.
  result<std::string> create_join_token(std::chrono::seconds ttl = std::chrono::hours(1));
  /// Credentials for admin frames (thread-safe, fixed after create).
  const farm_credentials& operator_credentials() const noexcept;

  /// Runs `fn` on the loop thread at its next turn.
  void post(std::function<void(lease_manager&)> fn);
  /// Queues a shot (thread-safe).
  void submit(shot_request shot);
  /// Cancels a shot (thread-safe).
  void cancel(std::string shot_id);
  /// The outcomes reported since the last call (thread-safe).
  std::vector<shot_outcome> take_outcomes();
  /// A copy of the counters as of the last loop turn (thread-safe).
  farm_probe probe() const;

 private:
  struct impl;
  explicit coordinator(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace reelfarm::farm
