#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of the CRM sync: the Salesforce client and the outbox drainer.
enum class crm_errc {
  config = 1,        ///< an option is missing or invalid (key file, URLs)
  transport,         ///< the connection failed or dropped before a full answer
  timeout,           ///< Salesforce did not answer within the request timeout
  server_error,      ///< Salesforce answered 5xx
  unable_to_lock,    ///< UNABLE_TO_LOCK_ROW: try again later
  limit_exceeded,    ///< REQUEST_LIMIT_EXCEEDED: the org's daily API allowance is spent
  session_expired,   ///< 401 INVALID_SESSION_ID even after re-authenticating
  auth_failed,       ///< the token endpoint refused the credentials
  rejected,          ///< Salesforce refused the request (4xx other than the above)
  invalid_response,  ///< an answer that does not follow the documented format
  database,          ///< PostgreSQL failed while claiming or settling outbox rows
};

std::string_view category_of(crm_errc) noexcept;
std::string_view to_string(crm_errc code) noexcept;

/// True for failures that go away by themselves (retry with backoff).
bool is_transient(crm_errc code) noexcept;

}  // namespace reelfarm
