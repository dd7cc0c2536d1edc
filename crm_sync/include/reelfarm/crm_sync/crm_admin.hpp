#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "reelfarm/common/result.hpp"

/// The operations behind `reelfarm ctl crm backfill|status|retry` and the
/// gateway's admin view of dead letters.
namespace reelfarm::crm {

/// Rows waiting in and passed through the outbox.
struct outbox_backlog {
  std::int64_t pending = 0;            ///< not yet accepted by Salesforce
  std::int64_t oldest_pending_ms = 0;  ///< age of the oldest pending row
  std::int64_t retrying = 0;           ///< pending rows that failed at least once
  std::int64_t done_last_hour = 0;
  std::int64_t dead_letters_open = 0;  ///< refused and not yet retried
};

/// One record Salesforce refused.
struct dead_letter {
  std::int64_t id = 0;
  std::string object;
  std::string record_key;
  std::string status_code;
  std::string message;
  std::string fields_json;
  std::string created_at;
};

/// Enqueues every mirrored record (users, projects, credit transactions,
/// uploads): the next passes send them, through Bulk API 2.0 when there are
/// more than the threshold. Returns the number of rows enqueued.
result<std::int64_t> enqueue_backfill(pqxx::connection& conn);

/// The backlog for `crm status`.
result<outbox_backlog> read_backlog(pqxx::connection& conn);

/// The open dead letters, newest first.
result<std::vector<dead_letter>> list_dead_letters(pqxx::connection& conn, int limit = 100);

/// Enqueues the records of open dead letters again (all when `ids` is empty)
/// and marks the letters retried. Returns the number retried.
result<std::int64_t> retry_dead_letters(pqxx::connection& conn,
                                        const std::vector<std::int64_t>& ids = {});

}  // namespace reelfarm::crm
