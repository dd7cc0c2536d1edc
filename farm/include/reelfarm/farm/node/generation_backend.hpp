#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "reelfarm/farm/node/render_backend.hpp"

namespace reelfarm::farm {

class provider_http;

/// Where a generation backend sends its requests and how long it waits.
struct provider_settings {
  std::string kind;      ///< comfyui, replicate or runpod
  std::string name;      ///< advertised backend name; default: the kind
  std::string url;       ///< base URL, e.g. http://127.0.0.1:8188
  std::string api_key;   ///< from config or environment only; never logged
  std::string workflow;  ///< comfyui: workflow file in API format
  /// comfyui: workflow for shots with a character reference image; empty: `workflow`
  std::string reference_workflow;
  std::string model;     ///< replicate: "owner/name", "owner/name:version" or a version id
  std::string endpoint;  ///< runpod: endpoint id
  std::chrono::seconds deadline{900};   ///< per shot, from submit to the last byte
  std::chrono::milliseconds poll{500};  ///< comfyui/runpod poll interval
  /// Multiplies every retry and backoff delay; tests use < 1 to stay fast.
  double delay_scale = 1.0;
  std::filesystem::path media_dir;  ///< shared media folder (segments, references)
  std::filesystem::path cache_dir;  ///< node-local cache of reference images
};

/// What a provider is asked to make for one shot.
struct generation_request {
  std::string shot_id;
  std::string prompt;
  std::uint64_t seed = 0;
  int width = 1280;
  int height = 720;
  int fps = 24;
  std::int64_t frames = 24;
  double duration_s = 1.0;
  std::filesystem::path reference_image;  ///< node-local copy; empty: none
  std::string reference_sha256;           ///< hex of the image's bytes
};

/// The state of a provider job.
struct generation_status {
  enum class state { queued, running, succeeded, failed, cancelled };
  state status = state::queued;
  int percent = -1;                  ///< provider progress, -1 when unknown
  std::string message;               ///< why it failed, in the provider's words
  bool retryable = true;             ///< false: the shot's input is at fault
  std::vector<std::string> outputs;  ///< provider references of the results (URLs, names)
  double billed_s = 0;               ///< compute time the provider reports (its billing unit)
};

/// The shared half of the HTTP backends: the lease spec, the prompt, the
/// reference image cache, submit → poll → fetch with a per-shot deadline and
/// cancellation, and the encoding of what came back into the animatic's
/// segment format (media::frame_source + shot_renderer::render_frames), so
/// films mix backends. The lease spec is the animatic's {"shot","output"}
/// plus optional "prompt" (default: built from the shot) and "references":
/// [{"name","image","sha256"}] (image relative to the media folder). Each
/// run uses its own HTTP handle, so one instance serves every slot.
class generation_backend : public render_backend {
 public:
  explicit generation_backend(provider_settings settings);
  const std::string& name() const override { return settings_.name; }
  result<void> prepare(const render_job& job) override;
  result<render_output> run(const render_job& job, const progress_fn& progress,
                            const std::atomic<bool>& cancel) override;

  /// The prompt of a shot spec (JSON): kind, heading, action, who is in it and
  /// what they say.
  static std::string prompt_of(const std::string& shot_json);

 protected:
  /// Starts the provider job; returns its id.
  virtual result<std::string> submit(provider_http& http, const generation_request& request,
                                     const render_job& job) = 0;
  /// Asks for the job's state.
  virtual result<generation_status> poll(provider_http& http, const std::string& id) = 0;
  /// Downloads the results into `dir`; returns the files in order.
  virtual result<std::vector<std::filesystem::path>> fetch(provider_http& http,
                                                           const generation_status& status,
                                                           const std::filesystem::path& dir) = 0;
  /// Asks the provider to stop the job (best effort).
  virtual void cancel(provider_http& http, const std::string& id) = 0;
  /// How long to wait before poll number `attempt` (0 = the first).
  virtual std::chrono::milliseconds poll_delay(int attempt) const;

  /// Sleeps `d` (scaled by delay_scale) unless `cancel` turns true first.
  bool pause(std::chrono::milliseconds d, const std::atomic<bool>& cancel) const;
  /// GETs `url` into `file` with 3 retries after 1 s, 2 s and 4 s (scaled)
  /// for transport errors, 429 and 5xx; the API key is sent only to the
  /// provider's own host.
  result<void> download_with_retries(provider_http& http, const std::string& url,
                                     const std::filesystem::path& file) const;

  /// `d` scaled by delay_scale.
  std::chrono::milliseconds scaled(std::chrono::milliseconds d) const;

  const provider_settings& settings() const { return settings_; }

 private:
  provider_settings settings_;
};

}  // namespace reelfarm::farm
