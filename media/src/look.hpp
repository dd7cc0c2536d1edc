#pragma once

#include <cstdint>
#include <vector>

#include "reelfarm/media/shot_spec.hpp"

namespace reelfarm::media::detail {

/// How a character is drawn. Derived only from its reference's seed and
/// palette, so a character looks the same in every shot and every render.
struct figure_look {
  rgb skin, hair, shirt, trousers, accent;
  double height = 1.0;  ///< relative body height, 0.88..1.08
  double build = 1.0;   ///< relative width, 0.85..1.25
  double head = 1.0;    ///< relative head size
  int hair_style = 0;   ///< 0 short, 1 long, 2 bald, 3 bun
  int accessory = 0;    ///< 0 none, 1 hat, 2 glasses, 3 scarf
};

/// A piece of set dressing in world units (0..1 across and down the frame).
struct prop {
  double x0, y0, x1, y1;
  rgb colour;
  bool round = false;
};

/// How a location is drawn.
struct location_look {
  bool exterior = false;
  rgb upper_top, upper_bottom, floor_near, floor_far;
  double horizon = 0.62;
  std::vector<prop> props;
};

/// Derives a figure from a character reference.
figure_look derive_figure(const character_ref& character);
/// Derives the set from a location reference.
location_look derive_location(const location_ref& location);

/// Mixes two colours; `t` 0 gives `a`, 1 gives `b`.
rgb blend(rgb a, rgb b, double t);

}  // namespace reelfarm::media::detail
