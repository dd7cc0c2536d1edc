#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// The kinds of credit movement (credit_transactions.kind).
/// A reversal takes back a refunded payment's unused credits.
enum class credit_kind { purchase, deduction, grant, refund, reset, reversal };

/// "purchase", "deduction", ...
std::string_view to_string(credit_kind kind) noexcept;
/// The inverse of `to_string`.
result<credit_kind> parse_credit_kind(std::string_view text);

/// One row of the ledger, as an operation returns it.
struct ledger_entry {
  std::int64_t id = 0;
  std::string user_id;
  credit_kind kind = credit_kind::grant;
  std::int64_t amount = 0;         ///< what the movement is worth, always > 0
  std::int64_t delta = 0;          ///< its effect on the balance (0 on unlimited plans)
  std::int64_t balance_after = 0;  ///< the balance once it was applied
  std::string description;
  std::optional<std::string> job_id;
  std::optional<std::string> payment_ref;
  std::optional<std::int64_t> refund_of;  ///< the deduction a refund undoes
  std::string idempotency_key;
  std::string created_at;  ///< ISO 8601, UTC
  /// True when this call found the operation already applied (same key, or
  /// same job) and returned the first result instead of applying it again.
  bool replayed = false;
};

/// Where a job stands with the ledger; what the job layer asks before it
/// charges, refunds or cancels.
enum class job_charge_state {
  not_charged,             ///< no charge yet: cancelling costs nothing
  charged,                 ///< charged at render start; a failure is refunded in full
  refunded,                ///< the job failed and its charge was refunded
  cancelled_before_start,  ///< cancelled before start: never charged, cannot be
  cancelled_after_start,   ///< cancelled while processing: charged, never refunded
};

std::string_view to_string(job_charge_state state) noexcept;

}  // namespace reelfarm
