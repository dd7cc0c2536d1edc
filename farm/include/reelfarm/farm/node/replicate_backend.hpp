#pragma once

#include <memory>

#include "reelfarm/farm/node/generation_backend.hpp"

namespace reelfarm::farm {

/// A Replicate-style predictions API as a node backend (name "replicate").
///
/// `POST /v1/predictions {"version": MODEL, "input": {...}}` with
/// `Authorization: Bearer KEY`; MODEL is "owner/name", "owner/name:version" or
/// a version id. Input: prompt, seed, width, height, num_frames, fps and, for
/// a character with a reference image, `image` as a data URI. Polls
/// `GET /v1/predictions/{id}` after 1 s, 2 s, 4 s, then every 5 s (capped
/// exponential backoff); statuses starting, processing, succeeded, failed,
/// canceled; `metrics.predict_time` is reported as the billed time. Cancel:
/// `POST /v1/predictions/{id}/cancel`. Outputs (a URL or a list of URLs) are
/// downloaded with 3 retries (1 s, 2 s, 4 s); the key goes only to the API's
/// own host. 401/403: bad API token; 402: no credit left; 404 while polling:
/// the prediction expired or is unknown; 422: the model refused the input.
class replicate_backend final : public generation_backend {
 public:
  /// Checks the settings (url, model).
  static result<std::unique_ptr<replicate_backend>> create(provider_settings settings);

 protected:
  result<std::string> submit(provider_http& http, const generation_request& request,
                             const render_job& job) override;
  result<generation_status> poll(provider_http& http, const std::string& id) override;
  result<std::vector<std::filesystem::path>> fetch(provider_http& http,
                                                   const generation_status& status,
                                                   const std::filesystem::path& dir) override;
  void cancel(provider_http& http, const std::string& id) override;
  std::chrono::milliseconds poll_delay(int attempt) const override;

 private:
  explicit replicate_backend(provider_settings settings);
};

/// The message of a provider's HTTP error: 401/403 bad key, 402 no credit,
/// 404 not found or expired, 429 rate limited, else the status; `body`'s
/// `detail`/`title`/`error` quoted when present.
std::string provider_error_text(const std::string& provider, long status, const std::string& body);

}  // namespace reelfarm::farm
