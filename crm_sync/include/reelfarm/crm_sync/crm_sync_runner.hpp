#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "reelfarm/common/result.hpp"
#include "reelfarm/crm_sync/crm_options.hpp"
#include "reelfarm/crm_sync/crm_sync_status.hpp"
#include "reelfarm/crm_sync/drain_report.hpp"

namespace reelfarm::crm {

/// The sync process: a thread that drains the outbox whenever PostgreSQL
/// NOTIFYs `crm_outbox` (polling every `poll_interval` as a fallback), backs
/// off after failures and pauses near the API limit. Several runners (in
/// several processes) can drain one database. A plain thread rather than a
/// CAF actor for now: the loop blocks on the database and on libcurl, which
/// would pin a CAF scheduler thread anyway.
class crm_sync_runner {
 public:
  crm_sync_runner(std::string postgres_dsn, crm_options options);
  ~crm_sync_runner();
  crm_sync_runner(const crm_sync_runner&) = delete;
  crm_sync_runner& operator=(const crm_sync_runner&) = delete;

  /// Connects to PostgreSQL (LISTEN crm_outbox) and starts the thread.
  result<void> start();
  /// Asks the thread to stop and joins it (at most one request timeout).
  void stop();
  /// A snapshot of the counters.
  crm_sync_status status() const;

 private:
  void run();
  void pause(std::chrono::milliseconds how_long);
  void record(const drain_report& report);

  std::string dsn_;
  crm_options options_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  crm_sync_status status_;
};

}  // namespace reelfarm::crm
