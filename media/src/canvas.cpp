#include "canvas.hpp"

#include <algorithm>
#include <cmath>

namespace reelfarm::media::detail {
namespace {

int clamp_to(double value, int lo, int hi) {
  return static_cast<int>(
      std::clamp(std::lround(value), static_cast<long>(lo), static_cast<long>(hi)));
}

std::uint8_t mix(std::uint8_t under, std::uint8_t over, int alpha) {
  return static_cast<std::uint8_t>((under * (255 - alpha) + over * alpha + 127) / 255);
}

}  // namespace

void canvas::blend_span(int y, int x0, int x1, rgb colour, int alpha) {
  if (y < 0 || y >= height_) {
    return;
  }
  x0 = std::max(x0, 0);
  x1 = std::min(x1, width_);
  std::uint8_t* p = pixels_.data() + (static_cast<std::size_t>(y) * width_ + x0) * 3;
  if (alpha >= 255) {
    for (int x = x0; x < x1; ++x, p += 3) {
      p[0] = colour.r;
      p[1] = colour.g;
      p[2] = colour.b;
    }
    return;
  }
  for (int x = x0; x < x1; ++x, p += 3) {
    p[0] = mix(p[0], colour.r, alpha);
    p[1] = mix(p[1], colour.g, alpha);
    p[2] = mix(p[2], colour.b, alpha);
  }
}

void canvas::blend_pixel(int x, int y, rgb colour, int alpha) {
  if (x >= 0 && x < width_) {
    blend_span(y, x, x + 1, colour, alpha);
  }
}

void canvas::gradient(double y0, double y1, rgb top, rgb bottom) {
  int from = clamp_to(y0, 0, height_);
  int to = clamp_to(y1, 0, height_);
  double span = std::max(1.0, y1 - y0);
  for (int y = from; y < to; ++y) {
    int t = static_cast<int>(std::clamp((y - y0) / span, 0.0, 1.0) * 255.0);
    rgb c{mix(top.r, bottom.r, t), mix(top.g, bottom.g, t), mix(top.b, bottom.b, t)};
    blend_span(y, 0, width_, c, 255);
  }
}

void canvas::rect(double x0, double y0, double x1, double y1, rgb colour, int alpha) {
  int left = clamp_to(x0, 0, width_);
  int right = clamp_to(x1, 0, width_);
  int top = clamp_to(y0, 0, height_);
  int bottom = clamp_to(y1, 0, height_);
  for (int y = top; y < bottom; ++y) {
    blend_span(y, left, right, colour, alpha);
  }
}

void canvas::rounded_rect(double x0, double y0, double x1, double y1, double radius, rgb colour,
                          int alpha) {
  radius = std::min({radius, (x1 - x0) / 2, (y1 - y0) / 2});
  int top = clamp_to(y0, 0, height_);
  int bottom = clamp_to(y1, 0, height_);
  for (int y = top; y < bottom; ++y) {
    double cy = y + 0.5;
    double inset = 0;
    double dy = cy < y0 + radius ? y0 + radius - cy : cy > y1 - radius ? cy - (y1 - radius) : 0;
    if (dy > 0) {
      inset = radius - std::sqrt(std::max(0.0, radius * radius - dy * dy));
    }
    blend_span(y, clamp_to(x0 + inset, 0, width_), clamp_to(x1 - inset, 0, width_), colour, alpha);
  }
}

void canvas::ellipse(double cx, double cy, double rx, double ry, rgb colour, int alpha) {
  if (rx <= 0 || ry <= 0) {
    return;
  }
  int top = clamp_to(cy - ry - 1, 0, height_);
  int bottom = clamp_to(cy + ry + 1, 0, height_);
  for (int y = top; y < bottom; ++y) {
    double dy = (y + 0.5 - cy) / ry;
    if (std::abs(dy) >= 1.0) {
      continue;
    }
    double half = rx * std::sqrt(1.0 - dy * dy);
    double left = cx - half;
    double right = cx + half;
    int inner_left = static_cast<int>(std::ceil(left));
    int inner_right = static_cast<int>(std::floor(right));
    blend_span(y, inner_left, inner_right, colour, alpha);
    // Soft edges: the partially covered pixel on each side.
    blend_pixel(inner_left - 1, y, colour, static_cast<int>(alpha * (inner_left - left)));
    blend_pixel(inner_right, y, colour, static_cast<int>(alpha * (right - inner_right)));
  }
}

void canvas::draw_mask(const alpha_mask& mask, int x, int y, rgb colour, int alpha) {
  for (int row = 0; row < mask.height; ++row) {
    int py = y + row;
    if (py < 0 || py >= height_) {
      continue;
    }
    const std::uint8_t* cov = mask.coverage.data() + static_cast<std::size_t>(row) * mask.width;
    int first = std::max(0, -x);
    int last = std::min(mask.width, width_ - x);
    std::uint8_t* p = pixels_.data() + (static_cast<std::size_t>(py) * width_ + x + first) * 3;
    for (int col = first; col < last; ++col, p += 3) {
      int a = cov[col] * alpha / 255;
      if (a == 0) {
        continue;
      }
      p[0] = mix(p[0], colour.r, a);
      p[1] = mix(p[1], colour.g, a);
      p[2] = mix(p[2], colour.b, a);
    }
  }
}

}  // namespace reelfarm::media::detail
