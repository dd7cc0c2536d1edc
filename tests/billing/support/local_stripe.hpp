#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reelfarm/common/process.hpp"
#include "reelfarm/testing/temp_dir.hpp"

namespace reelfarm::testing {

/// The local Stripe (tests/billing/local_stripe/local_stripe.py) started for
/// one test on its own port; killed on destruction. Its docstring lists every
/// endpoint and control.
class local_stripe {
 public:
  /// `webhook_url` may be empty: set it later with control("POST", "webhook", {{"url", ...}})
  /// or use sink_url() (the server's own recording receiver).
  explicit local_stripe(std::string webhook_url = "");
  ~local_stripe();
  local_stripe(const local_stripe&) = delete;
  local_stripe& operator=(const local_stripe&) = delete;

  static constexpr const char* secret_key = "sk_test_reelfarm_local";
  static constexpr const char* webhook_secret = "whsec_reelfarm_local_test";

  /// http://127.0.0.1:PORT (the API base: url() + "/v1/...").
  const std::string& url() const noexcept { return url_; }
  /// url() + "/_control/sink": a webhook receiver inside the server.
  std::string sink_url() const { return url_ + "/_control/sink"; }

  /// A control call: `path` is "/_control/..." or, without a leading '/', the
  /// part after "/_control/" ("clock/advance"). Returns the parsed answer;
  /// throws std::runtime_error with the server's answer on a non-2xx status.
  nlohmann::json control(const std::string& method, const std::string& path,
                         const nlohmann::json& body = nlohmann::json::object());

  struct api_response {
    long status = 0;
    nlohmann::json body;
    std::string request_id;
    bool replayed = false;  ///< Idempotent-Replayed: true
  };
  /// A raw /v1 call with the secret key: `form_body` is sent as the
  /// form-encoded body (POST) or as the query (GET, DELETE); `headers` are
  /// extra "Name: value" lines (Idempotency-Key, Stripe-Version).
  api_response api(const std::string& method, const std::string& path,
                   const std::string& form_body = "", const std::vector<std::string>& headers = {});

  /// POST /_control/webhook/wait: every delivery done; returns the delivery list.
  nlohmann::json wait_for_deliveries(std::chrono::seconds timeout = std::chrono::seconds(20));

 private:
  temp_dir dir_;
  child_process server_;
  std::string url_;
};

}  // namespace reelfarm::testing
