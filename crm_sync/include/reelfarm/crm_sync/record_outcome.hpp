#pragma once

#include <string>
#include <vector>

namespace reelfarm::crm {

/// What Salesforce said about one record of a collections call or bulk job.
struct record_outcome {
  bool success = false;
  bool created = false;
  std::string id;           ///< the Salesforce id on success
  std::string status_code;  ///< e.g. STRING_TOO_LONG, UNABLE_TO_LOCK_ROW
  std::string message;
  std::vector<std::string> fields;

  /// Failures that may pass on a later try: a locked row, or a parent that
  /// has not arrived yet (lookup by external id not found).
  bool retryable() const;
};

}  // namespace reelfarm::crm
