#pragma once

#include <string>
#include <vector>

#include "reelfarm/crm_sync/salesforce_client.hpp"

namespace reelfarm::testing {

/// Compares every mirrored record in PostgreSQL (the crm_*_records views)
/// with what Salesforce holds, read back with SOQL: same records, no extra
/// or duplicate ones, every field equal (lookups by parent external id,
/// datetimes and numbers normalised). Returns the differences, empty when
/// the mirror is exact; `compared` counts the records checked.
std::vector<std::string> mirror_differences(const std::string& dsn, crm::salesforce_client& client,
                                            std::size_t* compared = nullptr);

}  // namespace reelfarm::testing
