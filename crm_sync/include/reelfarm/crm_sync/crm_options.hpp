#pragma once

#include <chrono>
#include <string>

namespace reelfarm::crm {

/// How the client proves who it is to Salesforce.
enum class auth_flow {
  jwt_bearer,          ///< RS256 assertion signed with `private_key_file`
  client_credentials,  ///< `client_id` + `client_secret`
};

/// Everything the CRM sync needs; the lead maps the `crm.*` config keys onto it
/// (docs/crm_sync.md lists them).
struct crm_options {
  // Salesforce connection.
  std::string login_url = "https://login.salesforce.com";  ///< token endpoint host
  std::string api_version = "59.0";                        ///< REST API version (46.0+)
  auth_flow flow = auth_flow::jwt_bearer;
  std::string client_id;         ///< connected app consumer key (JWT `iss`)
  std::string client_secret;     ///< client credentials flow only; never logged
  std::string username;          ///< integration user (JWT `sub`)
  std::string private_key_file;  ///< PEM RSA key for the JWT bearer flow
  std::string audience;          ///< JWT `aud`; empty: login.salesforce.com
  /// Tokens are reused until this age (or a 401): Salesforce sends no expiry.
  std::chrono::seconds token_ttl{std::chrono::minutes(30)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};

  // Drainer.
  std::size_t batch_size = 200;       ///< records per sObject Collections call (max 200)
  std::size_t bulk_threshold = 2000;  ///< more records of one object than this: Bulk API 2.0
  std::size_t claim_limit = 10000;    ///< outbox rows claimed per drain pass
  int max_attempts = 12;              ///< per record, before a retryable failure is dead-lettered
  std::chrono::milliseconds poll_interval{std::chrono::seconds(5)};  ///< LISTEN fallback
  /// While changes keep coming, passes start at most this often, so each call
  /// carries many records (API calls are Salesforce's scarce resource); the
  /// first change after a quiet spell is sent at once. 0: lowest latency.
  std::chrono::milliseconds send_interval{std::chrono::seconds(1)};
  std::chrono::milliseconds backoff_base{std::chrono::milliseconds(500)};
  std::chrono::milliseconds backoff_cap{std::chrono::minutes(5)};
  /// Above this share of the daily API allowance the drainer slows down.
  double limit_threshold = 0.9;
  /// Pause after REQUEST_LIMIT_EXCEEDED or near the limit.
  std::chrono::milliseconds limit_pause{std::chrono::minutes(5)};
  std::chrono::milliseconds bulk_poll_interval{std::chrono::seconds(2)};
  std::chrono::milliseconds bulk_timeout{std::chrono::minutes(30)};
  std::string instance_name = "crm-sync";  ///< written to crm_outbox.claimed_by
};

}  // namespace reelfarm::crm
