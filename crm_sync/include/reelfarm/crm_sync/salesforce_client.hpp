#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reelfarm/common/result.hpp"
#include "reelfarm/crm_sync/api_limit_info.hpp"
#include "reelfarm/crm_sync/crm_options.hpp"
#include "reelfarm/crm_sync/http_client.hpp"
#include "reelfarm/crm_sync/record_outcome.hpp"

namespace reelfarm::crm {

/// The Salesforce REST client of the sync: OAuth 2.0 (JWT bearer or client
/// credentials), sObject Collections upsert, Bulk API 2.0 ingest and SOQL.
/// The token is cached until `token_ttl` or a 401, after which the client
/// re-authenticates once and repeats the call. Not thread-safe.
class salesforce_client {
 public:
  explicit salesforce_client(crm_options options);

  /// Fetches a token now (otherwise the first call does).
  result<void> authenticate();

  /// `PATCH composite/sobjects/{object}/{ext_field}`: up to 200 records of one
  /// type, answered in order. Each record needs no `attributes`: they are added.
  result<std::vector<record_outcome>> upsert_collection(const std::string& object,
                                                        const std::string& ext_field,
                                                        const std::vector<nlohmann::json>& records,
                                                        bool all_or_none = false);

  /// `PATCH sobjects/{object}/{ext_field}/{key}`; the outcome's `created`
  /// tells 201 from 200. A 300 (several matches) is a failed outcome.
  result<record_outcome> upsert_one(const std::string& object, const std::string& ext_field,
                                    const std::string& key, const nlohmann::json& record);

  /// Bulk API 2.0 upsert: create the job, upload CSV, close, poll, read the
  /// results. Outcomes are keyed by the external id value, in input order.
  result<std::vector<std::pair<std::string, record_outcome>>> bulk_upsert(
      const std::string& object, const std::string& ext_field,
      const std::vector<nlohmann::json>& records);

  /// Runs a SOQL query and follows nextRecordsUrl; returns all records.
  result<std::vector<nlohmann::json>> query(const std::string& soql);

  /// GET on a data API path below /services/data/vXX.X/ (for checks).
  result<nlohmann::json> get(const std::string& path);

  /// The latest Sforce-Limit-Info seen.
  std::optional<api_limit_info> limit_info() const noexcept { return limit_; }
  /// Data API calls made (token requests excluded), for the benchmark.
  std::uint64_t api_calls() const noexcept { return api_calls_; }
  /// Token requests made.
  std::uint64_t token_requests() const noexcept { return token_requests_; }

 private:
  result<http_response> call(const std::string& method, const std::string& path,
                             const std::string& body, const std::string& content_type);
  result<http_response> send_once(const std::string& method, const std::string& path,
                                  const std::string& body, const std::string& content_type);
  result<std::string> token_request_body();
  result<void> check_status(const http_response& response);
  result<nlohmann::json> parse_body(const http_response& response);
  std::string data_url(const std::string& path) const;
  result<nlohmann::json> wait_for_job(const std::string& job_path);

  crm_options options_;
  http_client http_;
  std::string access_token_;
  std::string instance_url_;
  std::chrono::steady_clock::time_point token_expires_{};
  std::optional<api_limit_info> limit_;
  std::uint64_t api_calls_ = 0;
  std::uint64_t token_requests_ = 0;
};

}  // namespace reelfarm::crm
