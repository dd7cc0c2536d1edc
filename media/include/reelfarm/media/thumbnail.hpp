#pragma once

#include <filesystem>

#include "reelfarm/common/result.hpp"

namespace reelfarm::media {

/// Decodes the frame of `video` shown at `at_s` seconds, scales it to
/// `width`x`height` and writes it as a JPEG to `jpeg` (1280x720 by default,
/// the size thumbnails are published at).
result<void> make_thumbnail(const std::filesystem::path& video, double at_s,
                            const std::filesystem::path& jpeg, int width = 1280, int height = 720);

}  // namespace reelfarm::media
