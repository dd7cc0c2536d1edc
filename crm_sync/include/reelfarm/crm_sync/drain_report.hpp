#pragma once

#include <cstddef>
#include <optional>

#include "reelfarm/common/error.hpp"

namespace reelfarm::crm {

/// What one drain pass did.
struct drain_report {
  std::size_t claimed_rows =
      0;  ///< outbox rows this pass took (their records not in flight elsewhere)
  std::size_t records_sent = 0;   ///< distinct records sent (after coalescing)
  std::size_t records_done = 0;   ///< accepted by Salesforce
  std::size_t rescheduled = 0;    ///< left for a later pass (transient failures)
  std::size_t dead_lettered = 0;  ///< refused by Salesforce, in crm_dead_letters
  std::size_t calls = 0;          ///< Salesforce data API calls made
  bool used_bulk = false;         ///< some object went through Bulk API 2.0
  /// A failure that stopped the pass early (transient: back off and retry).
  std::optional<reelfarm::error> stopped_by;
};

}  // namespace reelfarm::crm
