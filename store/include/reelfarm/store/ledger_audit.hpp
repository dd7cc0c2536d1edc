#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// The result of checking every ledger invariant over the whole database.
struct ledger_audit {
  std::int64_t users = 0;
  std::int64_t transactions = 0;
  /// One sentence per violation (empty when the ledger is consistent):
  /// a balance that differs from the sum of its transactions, a negative
  /// balance, a broken balance_after chain, more than one deduction or refund
  /// for a job, a refund that does not undo exactly its deduction.
  std::vector<std::string> problems;

  bool consistent() const noexcept { return problems.empty(); }
};

/// Runs the audit in one REPEATABLE READ snapshot, so it can run while the
/// ledger is in use.
result<ledger_audit> audit_ledger(pqxx::connection& conn);

}  // namespace reelfarm
