#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "reelfarm/common/process.hpp"
#include "reelfarm/crm_sync/crm_options.hpp"
#include "reelfarm/testing/temp_dir.hpp"

namespace reelfarm::testing {

/// The local Salesforce (tests/crm_sync/local_salesforce/local_salesforce.py)
/// started for one test: its own port, a fresh RSA key pair for the JWT
/// bearer flow, and the schema from crm_sync/sfdx. Stopped on destruction.
class local_salesforce {
 public:
  /// `extra_args` are passed to the server (e.g. "--api-limit", "50").
  explicit local_salesforce(std::vector<std::string> extra_args = {});
  ~local_salesforce();
  local_salesforce(const local_salesforce&) = delete;
  local_salesforce& operator=(const local_salesforce&) = delete;

  /// http://127.0.0.1:PORT
  const std::string& url() const noexcept { return url_; }
  /// PEM private key whose public half the server trusts.
  const std::filesystem::path& private_key_file() const noexcept { return key_file_; }
  static constexpr const char* client_id = "reelfarm-test-client";
  static constexpr const char* client_secret = "test-secret-7f3a";
  static constexpr const char* username = "integration@reelfarm.test";

  /// Options for the JWT bearer flow (or client credentials) against this server.
  crm::crm_options options(crm::auth_flow flow = crm::auth_flow::jwt_bearer) const;

  /// POST /__admin/{what} with `body`; returns the answer.
  nlohmann::json admin(const std::string& what,
                       const nlohmann::json& body = nlohmann::json::object());
  /// GET /__admin/stats.
  nlohmann::json stats();

 private:
  temp_dir dir_;
  std::filesystem::path key_file_;
  child_process server_;
  std::string url_;
};

/// The SFDX project of the repository.
std::filesystem::path sfdx_dir();

}  // namespace reelfarm::testing
