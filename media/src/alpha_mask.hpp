#pragma once

#include <cstdint>
#include <vector>

namespace reelfarm::media::detail {

/// A coverage bitmap (0..255), as text rendering produces it.
struct alpha_mask {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> coverage;  ///< row-major, width * height

  bool empty() const noexcept { return width == 0 || height == 0; }
};

}  // namespace reelfarm::media::detail
