#pragma once

#include <filesystem>
#include <string>

#include "reelfarm/farm/node/render_backend.hpp"

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
class animatic_backend final : public render_backend {
 public:
  /// `media_dir` is the folder outputs are relative to (created on demand).
  explicit animatic_backend(std::filesystem::path media_dir);
  const std::string& name() const override { return name_; }
  result<void> prepare(const render_job& job) override;
  result<render_output> run(const render_job& job, const progress_fn& progress,
                            const std::atomic<bool>& cancel) override;

 private:
  std::string name_ = "animatic";
  std::filesystem::path media_dir_;
};

}  // namespace reelfarm::farm

namespace reelfarm::media {
struct segment_info;
}

namespace reelfarm::farm {

/// The sidecar JSON of a rendered segment: {"shot","frames","fps","duration_s",
/// "audio_samples","cues":[{"start_s","end_s","speaker","text"}],"warnings"}.
std::string segment_to_json(const media::segment_info& segment);

/// Parses a sidecar written by `segment_to_json`; `file` becomes the segment's path.
result<media::segment_info> segment_from_json(const std::string& text,
                                              const std::filesystem::path& file);

}  // namespace reelfarm::farm
