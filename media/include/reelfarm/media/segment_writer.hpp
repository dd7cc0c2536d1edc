#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "reelfarm/common/result.hpp"
#include "reelfarm/media/encode_settings.hpp"

namespace reelfarm::media {

/// What a finished segment holds.
struct segment_stats {
  std::int64_t video_frames = 0;
  std::int64_t audio_samples = 0;  ///< excluding the encoder's priming
};

/// Encodes frames and mono audio in-process into one MP4 segment: H.264
/// (libx264, yuv420p, BT.709) + AAC (48 kHz mono). Any frame source (the
/// animatic painter, frames fetched from an AI backend) goes through here, so
/// every segment has the same codec parameters. Output is bit-exact: no
/// timestamps, no version strings that vary.
class segment_writer {
 public:
  /// Opens `file` for writing with `settings`.
  static result<segment_writer> open(const std::filesystem::path& file,
                                     const encode_settings& settings);

  segment_writer(segment_writer&&) noexcept;
  segment_writer& operator=(segment_writer&&) noexcept;
  /// Closes the file; a segment not finished is incomplete (and not valid).
  ~segment_writer();

  /// Adds one frame of packed RGB24, `stride` bytes per row, at the settings' size.
  result<void> write_rgb(const std::uint8_t* rgb, int stride);
  /// Adds one frame of planar yuv420p (Y, then U, then V, tightly packed).
  result<void> write_yuv420p(const std::uint8_t* yuv);
  /// Adds mono samples (-1..1) at the settings' sample rate; any count.
  result<void> write_audio(std::span<const float> samples);
  /// Pads audio to a whole AAC frame, drains the encoders, writes the trailer.
  result<segment_stats> finish();

  /// The implementation's state (FFmpeg objects); not part of the interface.
  struct impl;

 private:
  explicit segment_writer(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace reelfarm::media
