#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "reelfarm/farm/node/render_backend.hpp"

namespace reelfarm::media {
class shot_renderer;
struct segment_info;
}  // namespace reelfarm::media

namespace reelfarm::farm {

/// The built-in animatic renderer as a node backend (name "animatic").
///
/// The lease spec is {"shot": <media::shot_spec JSON>, "output": "REL/PATH.mp4"}:
/// the shot is rendered with media::shot_renderer into MEDIA_DIR/REL/PATH.mp4,
/// and its timing (frames, fps, duration, audio samples, dialogue cues) is
/// written next to it as REL/PATH.mp4.json for the film assembly. `output` is
/// relative to the shared media folder and may not leave it. The artifact
/// reported is that relative path; the checksum "sha256:<hex>" of the segment.
/// An invalid spec fails with farm_errc::invalid_argument (not retryable).
/// Cancel is honoured between the steps of a lease (a shot renders in seconds).
/// Renderers (fonts loaded) are kept between leases and reused, one per
/// concurrent lease, so a shot does not pay for loading the fonts again.
class animatic_backend final : public render_backend {
 public:
  /// `media_dir` is the folder outputs are relative to (created on demand).
  /// `encoder_threads` is x264's thread count; 0 takes the process default
  /// (`set_default_animatic_threads`, else media::encode_settings' 2).
  explicit animatic_backend(std::filesystem::path media_dir, int encoder_threads = 0);
  ~animatic_backend() override;
  const std::string& name() const override { return name_; }
  result<void> prepare(const render_job& job) override;
  result<render_output> run(const render_job& job, const progress_fn& progress,
                            const std::atomic<bool>& cancel) override;

 private:
  result<std::unique_ptr<media::shot_renderer>> take_renderer();
  void give_back(std::unique_ptr<media::shot_renderer> renderer);

  std::string name_ = "animatic";
  std::filesystem::path media_dir_;
  int encoder_threads_;
  std::mutex idle_mutex_;
  std::vector<std::unique_ptr<media::shot_renderer>> idle_;
};

/// Sets the encoder threads of animatic backends built without their own count
/// in this process (`reelfarm node --threads N`); 0 restores the default.
/// Output bytes are deterministic for a given count, not across counts.
void set_default_animatic_threads(int threads);

/// The count set by `set_default_animatic_threads` (0: not set).
int default_animatic_threads();

/// How long a segment took on its node, recorded in its sidecar for operators
/// and the render benchmark (bench/render).
struct segment_timing {
  double render_ms = 0;  ///< speech, drawing and encoding: the pure render+encode time
  /// CPU time the node process (all its threads, x264's included, and the
  /// speech engine it ran) used during the render: cpu_ms / render_ms is how
  /// many cores the shot kept busy. Counts other leases of the node too when
  /// it runs several at once.
  double cpu_ms = 0;
  double lease_ms = 0;              ///< the whole backend run: renderer, render, sidecar, checksum
  std::int64_t started_at_ms = 0;   ///< Unix time the render began
  std::int64_t finished_at_ms = 0;  ///< Unix time it ended
  int encoder_threads = 0;
  long node_pid = 0;  ///< the node process, to tell nodes apart on one machine
};

/// The sidecar JSON of a rendered segment: {"shot","frames","fps","duration_s",
/// "audio_samples","cues":[{"start_s","end_s","speaker","text"}],"warnings"},
/// plus "timing":{"render_ms","cpu_ms","lease_ms","started_at_ms","finished_at_ms",
/// "encoder_threads","node_pid"} when `timing` is given.
std::string segment_to_json(const media::segment_info& segment,
                            const segment_timing* timing = nullptr);

/// Parses a sidecar written by `segment_to_json`; `file` becomes the segment's path.
result<media::segment_info> segment_from_json(const std::string& text,
                                              const std::filesystem::path& file);

}  // namespace reelfarm::farm
