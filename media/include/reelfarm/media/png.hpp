#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

#include "reelfarm/common/result.hpp"

namespace reelfarm::media {

/// Writes packed RGB24 pixels as a PNG (previews: `reelfarm render-shot --still`).
result<void> write_png(std::span<const std::uint8_t> rgb, int width, int height,
                       const std::filesystem::path& file);

}  // namespace reelfarm::media
