#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "reelfarm/common/result.hpp"

namespace reelfarm::media {

/// Pictures for a shot from generated media: PNG/JPEG images or videos (MP4,
/// anything libavformat opens), decoded with libavcodec and scaled to the
/// shot's size (cover, centre crop, so nothing is stretched). The files share
/// the shot's time equally and in order: one video plays from its start (its
/// last frame is held when it is shorter than the shot, it is cut when it is
/// longer); several images become a slide show; one image is held. Frames are
/// asked for in increasing order. One instance per thread.
class frame_source {
 public:
  /// Opens every file; fails with media_errc::decode when one cannot be read.
  static result<frame_source> open(const std::vector<std::filesystem::path>& files, int width,
                                   int height, int fps, std::int64_t frames);

  frame_source(frame_source&&) noexcept;
  frame_source& operator=(frame_source&&) noexcept;
  ~frame_source();

  /// The picture of shot frame `index` as packed RGB24 (width * height * 3 bytes).
  result<const std::vector<std::uint8_t>*> frame(std::int64_t index);

  /// The implementation's state (FFmpeg objects); not part of the interface.
  struct impl;

 private:
  explicit frame_source(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace reelfarm::media
