#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "reelfarm/crm_sync/api_limit_info.hpp"

namespace reelfarm::crm {

/// What a running sync has done so far (`reelfarm ctl crm status`, /metrics).
struct crm_sync_status {
  bool running = false;
  std::uint64_t passes = 0;
  std::uint64_t records_done = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t rescheduled = 0;
  std::uint64_t api_calls = 0;
  std::uint64_t failures = 0;  ///< passes stopped by a Salesforce or database failure
  std::string last_error;      ///< never holds a secret
  std::optional<api_limit_info> api_limit;
  std::optional<std::chrono::system_clock::time_point> last_success;
};

}  // namespace reelfarm::crm
