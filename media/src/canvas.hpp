#pragma once

#include <cstdint>
#include <vector>

#include "alpha_mask.hpp"
#include "reelfarm/media/shot_spec.hpp"

namespace reelfarm::media::detail {

/// An RGB24 picture with the few primitives a storyboard needs. Coordinates
/// are pixels as doubles; everything is clipped, so callers never check bounds.
class canvas {
 public:
  canvas(int width, int height) : width_(width), height_(height), pixels_(width * height * 3) {}

  int width() const noexcept { return width_; }
  int height() const noexcept { return height_; }
  const std::uint8_t* data() const noexcept { return pixels_.data(); }
  std::uint8_t* data() noexcept { return pixels_.data(); }

  /// Vertical gradient from `top` to `bottom` over rows [y0, y1).
  void gradient(double y0, double y1, rgb top, rgb bottom);
  /// A rectangle, blended with `alpha` (255: opaque).
  void rect(double x0, double y0, double x1, double y1, rgb colour, int alpha = 255);
  /// A rectangle with rounded corners of `radius`.
  void rounded_rect(double x0, double y0, double x1, double y1, double radius, rgb colour,
                    int alpha = 255);
  /// A filled ellipse with a one-pixel soft edge.
  void ellipse(double cx, double cy, double rx, double ry, rgb colour, int alpha = 255);
  /// Paints `colour` through `mask` (text) with its top-left corner at (x, y).
  void draw_mask(const alpha_mask& mask, int x, int y, rgb colour, int alpha = 255);

 private:
  void blend_span(int y, int x0, int x1, rgb colour, int alpha);
  void blend_pixel(int x, int y, rgb colour, int alpha);

  int width_;
  int height_;
  std::vector<std::uint8_t> pixels_;
};

}  // namespace reelfarm::media::detail
