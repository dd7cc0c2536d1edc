#pragma once

// The CRM sync's Prometheus metrics (issue #9), kept apart from the sync:
// salesforce_client.cpp and crm_sync_runner.cpp call these hooks.
#include <optional>
#include <string>
#include <string_view>

#include <pqxx/connection>

#include "reelfarm/crm_sync/api_limit_info.hpp"

namespace reelfarm::crm::crm_metrics {

/// Exported:
///   reelfarm_crm_outbox_pending                          gauge    rows not yet mirrored
///   reelfarm_crm_outbox_oldest_age_seconds               gauge    age of the oldest of them (0:
///   none) reelfarm_crm_salesforce_calls_total{operation,result} counter operation:
///   token|upsert_collection|
///                                                         upsert|query|bulk|other; result:
///                                                         success|
///                                                         client_error|server_error|transport_error
///   reelfarm_crm_salesforce_api_usage                    gauge    API calls used today
///   (Sforce-Limit-Info) reelfarm_crm_salesforce_api_limit                    gauge    the org's
///   daily allowance reelfarm_crm_sync_passes_total{result}               counter ok|stopped|failed
///   reelfarm_crm_records_total{result}                   counter  done|dead_lettered|rescheduled

/// Creates every series at 0 (idempotent): the runner calls it on start.
void declare();
/// The operation label for a Salesforce request path.
std::string_view operation_of(std::string_view path) noexcept;
/// One HTTP exchange with Salesforce: `status` 0 when no answer came.
void salesforce_call(std::string_view path, int status);
/// The usage the last answer reported.
void api_usage(const api_limit_info& info);
/// One drain pass: its outcome and record counts.
void pass(std::string_view result, long done, long dead_lettered, long rescheduled);
/// Reads the outbox backlog and sets the two outbox gauges; errors leave them as they were.
void refresh_outbox(pqxx::connection& conn) noexcept;

}  // namespace reelfarm::crm::crm_metrics
