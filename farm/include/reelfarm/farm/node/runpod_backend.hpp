#pragma once

#include <memory>

#include "reelfarm/farm/node/generation_backend.hpp"

namespace reelfarm::farm {

/// A RunPod serverless endpoint as a node backend (name "runpod").
///
/// `POST /v2/{endpoint}/run {"input": {...}, "policy": {"executionTimeout": MS,
/// "ttl": MS}}` with `Authorization: Bearer KEY`; input as for Replicate, the
/// reference image as `image_base64` (plain base64) with `image_sha256`.
/// Polls `GET /v2/{endpoint}/status/{id}`: IN_QUEUE, IN_PROGRESS, COMPLETED,
/// FAILED, CANCELLED, TIMED_OUT; `executionTime` (ms) is the billed time.
/// Cancel: `POST /v2/{endpoint}/cancel/{id}`. The execution timeout is the
/// shot's deadline (at least 5 s). A worker's output is read as
/// {"images": [{"filename", "type": "base64"|"s3_url", "data"}]},
/// {"video": {...same...}}, {"url": URL}, a URL string or a list of those.
class runpod_backend final : public generation_backend {
 public:
  /// Checks the settings (url, endpoint).
  static result<std::unique_ptr<runpod_backend>> create(provider_settings settings);

 protected:
  result<std::string> submit(provider_http& http, const generation_request& request,
                             const render_job& job) override;
  result<generation_status> poll(provider_http& http, const std::string& id) override;
  result<std::vector<std::filesystem::path>> fetch(provider_http& http,
                                                   const generation_status& status,
                                                   const std::filesystem::path& dir) override;
  void cancel(provider_http& http, const std::string& id) override;

 private:
  explicit runpod_backend(provider_settings settings);
  std::string base() const;
};

}  // namespace reelfarm::farm
