#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "reelfarm/common/result.hpp"

namespace reelfarm::app {

/// Which coordinator leads: the one whose PostgreSQL session holds the
/// session-level advisory lock `lock_key`. The lock lives as long as that one
/// dedicated connection, so a leader that dies (even kill -9) releases it the
/// moment PostgreSQL sees its socket close, and a standby polling
/// `try_acquire` takes over. A leader whose connection is lost cannot know
/// whether it still holds the lock, so it must stop leading (`watch`).
///
/// Several `serve --role coordinator` processes on one database: one leads
/// (binds farm.bind, dispatches the render jobs), the others wait. The DSN
/// must reach PostgreSQL directly (or through a session-mode pooler): a
/// transaction-mode pooler would hand the lock's session to someone else.
class leader_election {
 public:
  /// pg_try_advisory_lock(8243395350629737842): "rfleader" in ASCII, distinct
  /// from the migrations' key ("reelfarm").
  static constexpr long long lock_key = 0x72666c6561646572LL;

  /// How long a standby that got the lock waits before it leads: longer than
  /// the period of `watch` (1 s) plus a round trip, so that a previous leader
  /// whose session was ended under it has stopped dispatching first.
  static constexpr std::chrono::milliseconds takeover_grace{2500};

  explicit leader_election(std::string dsn);
  ~leader_election();
  leader_election(const leader_election&) = delete;
  leader_election& operator=(const leader_election&) = delete;

  /// One attempt: connects when needed and tries the lock. True: this
  /// process holds it from now on (`leading()` turns true only through
  /// `wait_to_lead`). False: another session holds it. An error: PostgreSQL
  /// cannot be reached (the caller retries).
  result<bool> try_acquire();

  /// Blocks until this process leads (true) or `stopping()` (false), trying
  /// every `poll` and logging "standby: waiting for the leader" once. A
  /// standby that gets the lock leads after `takeover_grace`.
  bool wait_to_lead(const std::function<bool()>& stopping,
                    std::chrono::milliseconds poll = std::chrono::seconds(1));

  /// While leading: checks the lock's session every `every`; when it is gone
  /// (PostgreSQL restarted, the network cut, the session terminated) stops
  /// leading and calls `on_lost` once, from the watching thread.
  void watch(std::function<void()> on_lost,
             std::chrono::milliseconds every = std::chrono::seconds(1));

  /// Stops the watching thread without releasing the lock: for an orderly
  /// stop, before the servers the lock's session depends on go away.
  void stop_watching();

  /// True while this process leads (what /readyz reports).
  bool leading() const noexcept { return leading_.load(); }

  /// The DSN with TCP keepalive and user-timeout settings added, so that a
  /// dead network path is noticed within seconds on both ends rather than
  /// after the kernel's two hours (exposed for tests).
  static std::string with_keepalives(const std::string& dsn);

 private:
  struct session;  // the lock's pqxx connection (pqxx 6 cannot be forward-declared)
  void release() noexcept;

  std::string dsn_;
  std::unique_ptr<session> conn_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> stopping_{false};
  std::thread watcher_;
};

}  // namespace reelfarm::app
