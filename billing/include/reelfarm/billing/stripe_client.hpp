#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "reelfarm/common/backoff.hpp"
#include "reelfarm/common/http_client.hpp"
#include "reelfarm/common/result.hpp"

namespace reelfarm::billing {

/// The Stripe API version every request pins (Stripe-Version), so an account
/// upgrade on Stripe's side never changes the shapes this client reads.
inline constexpr const char* stripe_api_version = "2024-06-20";

/// Where and how the client talks to Stripe.
struct stripe_client_options {
  std::string secret_key;  ///< sk_live_... / sk_test_...; never logged
  std::string api_base = "https://api.stripe.com";
  std::chrono::milliseconds timeout{30'000};
  std::chrono::milliseconds connect_timeout{5'000};
  /// Retries after the first attempt (Stripe's libraries default to 2).
  int max_retries = 3;
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{8'000};
};

/// Request parameters in Stripe's form notation, in order:
/// {"metadata[user]", "42"}, {"line_items[0][quantity]", "1"}, {"expand[]", "x"}.
using stripe_params = std::vector<std::pair<std::string, std::string>>;

/// `application/x-www-form-urlencoded` of `params` (keys and values encoded).
std::string form_encode(const stripe_params& params);

/// What one call cost, for tests and metrics.
struct stripe_call_stats {
  std::int64_t requests = 0;  ///< HTTP attempts, retries included
  std::int64_t retries = 0;
};

/// A client of Stripe's REST API over the common libcurl client: form
/// bodies, Bearer auth, a pinned API version, an Idempotency-Key on every
/// POST and DELETE (the same key on each retry, so a retried request is
/// applied once), and Stripe's documented retry rules: network failures,
/// 409 and 5xx are retried with jittered exponential backoff unless the
/// answer says `Stripe-Should-Retry: false`; other 4xx never are. Errors
/// carry Stripe's type, code, param, message and request id; never the key.
/// Thread-safe (one HTTP handle per call).
class stripe_client {
 public:
  /// `sleep` waits between retries (tests pass one that records).
  explicit stripe_client(stripe_client_options options,
                         std::function<void(std::chrono::milliseconds)> sleep = {});

  /// POST /v1/{path}. `idempotency_key` is required (1..255 characters).
  result<nlohmann::json> post(std::string_view path, const stripe_params& params,
                              const std::string& idempotency_key);
  /// GET /v1/{path}?{query}.
  result<nlohmann::json> get(std::string_view path, const stripe_params& query = {});
  /// DELETE /v1/{path}.
  result<nlohmann::json> del(std::string_view path, const std::string& idempotency_key);

  stripe_call_stats stats() const;

 private:
  result<nlohmann::json> call(const std::string& method, std::string_view path,
                              const std::string& body, const std::string& idempotency_key);

  stripe_client_options options_;
  std::function<void(std::chrono::milliseconds)> sleep_;
  mutable std::mutex mutex_;
  backoff backoff_;
  stripe_call_stats stats_;
};

}  // namespace reelfarm::billing
