#pragma once

#include <vector>

#include "alpha_mask.hpp"
#include "canvas.hpp"
#include "font.hpp"
#include "look.hpp"
#include "reelfarm/media/shot_spec.hpp"
#include "shot_timeline.hpp"

namespace reelfarm::media::detail {

/// The regular and bold faces text is set in.
struct font_pair {
  font& regular;
  font& bold;
};

/// Draws the frames of one shot: set, figures, motion and texts. Texts are set
/// once per shot; each frame only composes.
class scene_painter {
 public:
  scene_painter(const shot_spec& spec, const shot_timeline& timeline, font_pair fonts);

  /// Draws frame `frame` (0-based) into `target`, which has the shot's size.
  void paint(canvas& target, int frame) const;

 private:
  struct placed_figure {
    double x;     ///< world x of the feet
    double size;  ///< world height of the figure
    int facing;   ///< +1 looks right, -1 left
  };
  struct caption {
    alpha_mask name;
    alpha_mask text;
    rgb name_colour;
  };

  placed_figure place(std::size_t index, double t) const;
  void paint_set(canvas& c, double zoom) const;
  void paint_figure(canvas& c, std::size_t index, double zoom, double t, int frame) const;
  void paint_overlays(canvas& c, double t, int frame) const;
  void paint_caption(canvas& c, const caption& cap) const;
  double zoom_at(double t) const;
  double to_x(double world_x, double zoom) const;
  double to_y(double world_y, double zoom) const;

  const shot_spec& spec_;
  const shot_timeline& timeline_;
  location_look set_;
  std::vector<figure_look> figures_;
  std::vector<alpha_mask> name_tags_;
  std::vector<caption> captions_;
  alpha_mask heading_, action_, slate_, watermark_;
  int width_, height_;
};

}  // namespace reelfarm::media::detail
