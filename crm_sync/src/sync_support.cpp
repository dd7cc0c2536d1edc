// Small value types of the sync: limit header parsing, per-record outcome
// classification, backoff.
#include <algorithm>
#include <charconv>
#include <cmath>

#include "reelfarm/crm_sync/api_limit_info.hpp"
#include "reelfarm/crm_sync/backoff_policy.hpp"
#include "reelfarm/crm_sync/record_outcome.hpp"

namespace reelfarm::crm {

std::optional<api_limit_info> parse_limit_info(std::string_view header) noexcept {
  // "api-usage=18/5000", possibly followed by ", per-app-api-usage=...".
  constexpr std::string_view key = "api-usage=";
  // The key must start an entry: "per-app-api-usage=" is another figure.
  auto at = header.find(key);
  while (at != std::string_view::npos && at > 0 && header[at - 1] != ' ' && header[at - 1] != ',') {
    at = header.find(key, at + 1);
  }
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  auto rest = header.substr(at + key.size());
  api_limit_info info;
  auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), info.used);
  if (ec != std::errc() || p == rest.data() + rest.size() || *p != '/') {
    return std::nullopt;
  }
  auto end = rest.data() + rest.size();
  auto [q, ec2] = std::from_chars(p + 1, end, info.max);
  if (ec2 != std::errc() || q == p + 1 || info.used < 0 || info.max <= 0) {
    return std::nullopt;
  }
  return info;
}

bool record_outcome::retryable() const {
  if (status_code == "UNABLE_TO_LOCK_ROW") {
    return true;
  }
  // The parent (looked up by its external id) is not in Salesforce yet: it is
  // in flight in another batch or instance, or waiting for its own retry.
  return status_code == "INVALID_FIELD" && message.starts_with("Foreign key external ID");
}

std::chrono::milliseconds backoff_policy::delay(int attempt) {
  double ceiling = static_cast<double>(base_.count()) * std::pow(2.0, std::clamp(attempt, 0, 30));
  ceiling = std::min(ceiling, static_cast<double>(cap_.count()));
  std::uniform_real_distribution<double> half(0.5, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(ceiling * half(rng_)));
}

}  // namespace reelfarm::crm
