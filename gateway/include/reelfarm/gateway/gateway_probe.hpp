#pragma once

#include <string_view>

/// The gateway's Prometheus metrics (issue #9), kept apart from the request
/// handling: api.cpp calls these two hooks and knows nothing of Prometheus.
///
/// Exported:
///   reelfarm_http_requests_total{method,route,status_class}   counter
///   reelfarm_http_request_duration_seconds{method,route}      histogram
///   reelfarm_http_event_streams                               gauge
namespace reelfarm::gateway {

/// One answered HTTP request: route pattern (e.g. "/api/v1/jobs/{id}", or "unmatched"), method,
/// status, seconds. The route must be the pattern, never the concrete path, so ids stay out of
/// label values; a method outside the HTTP set is counted as "OTHER".
void record_request(std::string_view method, std::string_view route, int status, double seconds);

/// Open Server-Sent-Event streams (gauge).
void set_event_streams(int open);

}  // namespace reelfarm::gateway
