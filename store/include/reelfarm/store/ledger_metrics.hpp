#pragma once

// The credit ledger's Prometheus metrics (issue #9), kept apart from the
// ledger: credit_ledger.cpp and ledger_audit.cpp call these hooks.
#include <cstdint>
#include <string>
#include <string_view>

#include "reelfarm/store/ledger_entry.hpp"
#include "reelfarm/store/plan_catalog.hpp"

namespace reelfarm::ledger_metrics {

// clang-format off
// Exported:
//   reelfarm_credits_charged_total{plan}                  counter    credits deducted for jobs
//   reelfarm_credits_refunded_total{plan}                 counter    credits refunded for failed jobs
//   reelfarm_credits_granted_total{plan}                  counter    grants (plans, resets, top-ups)
//   reelfarm_credits_purchased_total{plan}                counter    credits bought
//   reelfarm_ledger_operation_duration_seconds{operation} histogram  whole call, retries included
//   reelfarm_ledger_operation_errors_total{operation}     counter    calls that returned an error
//   reelfarm_ledger_retries_total{operation}              counter    attempts repeated after a lost
//                                                                    connection or a conflict
//   reelfarm_ledger_audit_problems                        gauge      violations found by the last audit
//   reelfarm_ledger_audit_runs_total{result}              counter    consistent|inconsistent|error
//   reelfarm_ledger_audit_last_run_timestamp_seconds      gauge      Unix time of the last audit
// clang-format on
/// Plan names are label values (a handful); user ids never are.

/// Creates the per-plan series at 0 so dashboards and rate() see them before
/// the first movement (idempotent).
void declare_plans(const plan_catalog& plans);
/// One ledger movement that was applied (a replayed one is not counted again).
void count_movement(const ledger_entry& entry, const std::string& plan);
/// One ledger call: its name, how long it took, whether it succeeded.
void observe_operation(std::string_view operation, double seconds, bool ok);
/// One attempt of a ledger call that failed in a way worth repeating and is
/// repeated with the same idempotency key.
void count_retry(std::string_view operation);
/// One audit: the number of problems, or -1 when the audit itself failed.
void audit_finished(long problems);

}  // namespace reelfarm::ledger_metrics
