#include "scene_painter.hpp"

#include <algorithm>
#include <cmath>

namespace reelfarm::media::detail {
namespace {

constexpr rgb white{255, 255, 255};
constexpr rgb black{0, 0, 0};
constexpr rgb ink{24, 24, 28};
constexpr double camera_y = 0.55;

double ease_out(double u) {
  u = std::clamp(u, 0.0, 1.0);
  return 1 - (1 - u) * (1 - u) * (1 - u);
}

// Figure height and ground line per framing: wide, medium, close.
struct framing {
  double size;
  double feet;
  double push;  ///< zoom gained over the shot (the camera push)
};

framing framing_of(shot_kind kind) {
  switch (kind) {
    case shot_kind::establishing:
      return {0.27, 0.86, 0.14};
    case shot_kind::action:
      return {0.44, 0.93, 0.06};
    case shot_kind::dialogue:
      return {0.62, 1.04, 0.07};
    case shot_kind::two_shot:
      return {0.55, 1.0, 0.04};
  }
  return {0.44, 0.93, 0.05};
}

std::string name_line(const dialogue_line& line) {
  return line.parenthetical.empty() ? line.character
                                    : line.character + "  (" + line.parenthetical + ")";
}

}  // namespace

scene_painter::scene_painter(const shot_spec& spec, const shot_timeline& timeline, font_pair fonts)
    : spec_(spec),
      timeline_(timeline),
      set_(derive_location(spec.location)),
      width_(spec.width),
      height_(spec.height) {
  const int h = height_;
  const int text_width = static_cast<int>(width_ * 0.84);
  for (const auto& c : spec.characters) {
    figures_.push_back(derive_figure(c));
    name_tags_.push_back(fonts.bold.render(c.name, {std::max(9, h * 26 / 1000), width_ / 3, 1}));
  }
  for (const auto& line : spec.dialogue) {
    caption cap;
    cap.name = fonts.bold.render(name_line(line), {std::max(9, h * 34 / 1000), text_width, 1});
    cap.text = fonts.regular.render(line.text, {std::max(10, h * 44 / 1000), text_width, 3});
    const auto& who = figures_.empty() ? figure_look{} : figures_[0];
    cap.name_colour = who.shirt;
    for (std::size_t i = 0; i < spec.characters.size(); ++i) {
      if (spec.characters[i].name == line.character) {
        cap.name_colour = blend(figures_[i].shirt, white, 0.45);
      }
    }
    captions_.push_back(std::move(cap));
  }
  if (spec.kind == shot_kind::establishing && !spec.heading.empty()) {
    heading_ = fonts.bold.render(spec.heading, {std::max(12, h * 64 / 1000), text_width, 2, true});
  }
  action_ = fonts.regular.render(spec.action, {std::max(9, h * 32 / 1000), text_width, 3,
                                               spec.kind == shot_kind::establishing});
  slate_ = fonts.regular.render(spec.id + "  ·  " + std::string(to_string(spec.kind)),
                                {std::max(8, h * 22 / 1000), width_ / 2, 1});
  if (spec.watermark) {
    watermark_ = fonts.bold.render("REELFARM  FREE PLAN", {std::max(10, h * 40 / 1000), width_, 1});
  }
}

double scene_painter::zoom_at(double t) const {
  double u = t / std::max(timeline_.duration_s(), 1e-3);
  return 1.0 + framing_of(spec_.kind).push * u;
}

double scene_painter::to_x(double world_x, double zoom) const {
  return ((world_x - 0.5) * zoom + 0.5) * width_;
}

double scene_painter::to_y(double world_y, double zoom) const {
  return ((world_y - camera_y) * zoom + camera_y) * height_;
}

scene_painter::placed_figure scene_painter::place(std::size_t index, double t) const {
  auto count = static_cast<double>(spec_.characters.size());
  double spread = spec_.kind == shot_kind::two_shot ? 0.5 : 1.0;
  double slot = (static_cast<double>(index) + 1) / (count + 1);
  double x = 0.5 + (slot - 0.5) * (count > 1 ? spread * 1.1 : 1.0);
  int facing = x < 0.5 ? 1 : x > 0.5 ? -1 : (index % 2 ? -1 : 1);
  if (spec_.kind == shot_kind::action || spec_.kind == shot_kind::two_shot) {
    // Characters walk in from the nearer edge, one after another.
    double start = x < 0.5 ? -0.15 : 1.15;
    double reach = spec_.kind == shot_kind::action ? 1.0 : 0.25;
    double u = ease_out((t - 0.15 * static_cast<double>(index)) / 0.9);
    x = x + (start - x) * reach * (1 - u);
  }
  return {x, framing_of(spec_.kind).size, facing};
}

void scene_painter::paint_set(canvas& c, double zoom) const {
  double horizon = to_y(set_.horizon, zoom);
  c.gradient(0, horizon, set_.upper_top, set_.upper_bottom);
  c.gradient(horizon, height_, set_.floor_far, set_.floor_near);
  for (const auto& p : set_.props) {
    double x0 = to_x(p.x0, zoom), x1 = to_x(p.x1, zoom);
    double y0 = to_y(p.y0, zoom), y1 = to_y(p.y1, zoom);
    if (p.round) {
      c.ellipse((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2, p.colour);
      continue;
    }
    c.rect(x0, y0, x1, y1, p.colour);
    // Windows on buildings or frames on walls: lighter insets read as "a place".
    double inset = (x1 - x0) * 0.18;
    c.rect(x0 + inset, y0 + inset, x1 - inset, y0 + (y1 - y0) * 0.45, blend(p.colour, white, 0.45),
           200);
  }
  c.rect(0, horizon - 2, width_, horizon + 2, blend(set_.floor_far, black, 0.3));
}

void scene_painter::paint_figure(canvas& c, std::size_t index, double zoom, double t,
                                 int frame) const {
  const auto& look = figures_[index];
  auto placed = place(index, t);
  const double s = placed.size * look.height * zoom * height_;
  const double feet = to_y(framing_of(spec_.kind).feet, zoom);
  const double x = to_x(placed.x, zoom);
  const double b = look.build;
  const int f = placed.facing;
  const auto* line = timeline_.active_line(frame);
  if (line != nullptr && line->speaker == index) {
    c.ellipse(x, feet, 0.3 * s * b, 0.05 * s, white, 70);  // the speaker stands in a pool of light
  }
  // Legs, torso, arms, hands.
  c.rect(x - 0.13 * s * b, feet - 0.45 * s, x - 0.02 * s, feet, look.trousers);
  c.rect(x + 0.02 * s, feet - 0.45 * s, x + 0.13 * s * b, feet, look.trousers);
  c.rect(x - 0.15 * s * b, feet - 0.03 * s, x - 0.01 * s, feet, ink);
  c.rect(x + 0.01 * s, feet - 0.03 * s, x + 0.15 * s * b, feet, ink);
  rgb sleeve = blend(look.shirt, black, 0.2);
  c.rounded_rect(x - 0.23 * s * b, feet - 0.78 * s, x - 0.15 * s * b, feet - 0.46 * s, 0.03 * s,
                 sleeve);
  c.rounded_rect(x + 0.15 * s * b, feet - 0.78 * s, x + 0.23 * s * b, feet - 0.46 * s, 0.03 * s,
                 sleeve);
  c.ellipse(x - 0.19 * s * b, feet - 0.45 * s, 0.035 * s, 0.035 * s, look.skin);
  c.ellipse(x + 0.19 * s * b, feet - 0.45 * s, 0.035 * s, 0.035 * s, look.skin);
  c.rounded_rect(x - 0.17 * s * b, feet - 0.81 * s, x + 0.17 * s * b, feet - 0.42 * s, 0.06 * s,
                 look.shirt);
  c.rect(x - 0.03 * s, feet - 0.86 * s, x + 0.03 * s, feet - 0.79 * s, look.skin);
  // Head and hair.
  const double hy = feet - 0.92 * s;
  const double rx = 0.095 * s * look.head, ry = 0.11 * s * look.head;
  if (look.hair_style == 1) {
    c.rounded_rect(x - rx * 1.2, hy - ry * 0.9, x + rx * 1.2, hy + ry * 1.3, rx * 0.5, look.hair);
  }
  c.ellipse(x, hy, rx, ry, look.skin);
  if (look.hair_style == 2) {
    c.ellipse(x - rx * 0.95, hy - ry * 0.1, rx * 0.25, ry * 0.4, look.hair);
    c.ellipse(x + rx * 0.95, hy - ry * 0.1, rx * 0.25, ry * 0.4, look.hair);
  } else {
    c.ellipse(x, hy - ry * 0.5, rx * 1.04, ry * 0.55, look.hair);
    if (look.hair_style == 3) {
      c.ellipse(x, hy - ry * 1.15, rx * 0.45, ry * 0.4, look.hair);
    }
  }
  // Eyes look towards the scene's centre; the mouth follows the voice.
  for (int side : {-1, 1}) {
    double ex = x + side * 0.036 * s + f * 0.012 * s;
    if (look.accessory == 2) {
      c.rect(ex - 0.03 * s, hy - 0.022 * s, ex + 0.03 * s, hy + 0.028 * s, ink);
      c.rect(ex - 0.024 * s, hy - 0.016 * s, ex + 0.024 * s, hy + 0.022 * s,
             blend(look.skin, white, 0.5));
    }
    c.ellipse(ex, hy + 0.003 * s, 0.016 * s, 0.012 * s, white);
    c.ellipse(ex + f * 0.005 * s, hy + 0.003 * s, 0.008 * s, 0.009 * s, ink);
  }
  double open = timeline_.mouth_open(index, frame);
  double mw = 0.03 * s * (1.0 - 0.3 * open);
  c.rounded_rect(x + f * 0.01 * s - mw, hy + 0.055 * s - 0.004 * s, x + f * 0.01 * s + mw,
                 hy + 0.055 * s + 0.004 * s + open * 0.035 * s, 0.004 * s, {120, 30, 40});
  if (look.accessory == 1) {
    c.rect(x - rx * 1.4, hy - ry * 0.72, x + rx * 1.4, hy - ry * 0.58,
           blend(look.accent, black, 0.3));
    c.rounded_rect(x - rx * 0.85, hy - ry * 1.6, x + rx * 0.85, hy - ry * 0.6, rx * 0.15,
                   look.accent);
  } else if (look.accessory == 3) {
    c.rounded_rect(x - 0.14 * s * b, feet - 0.85 * s, x + 0.14 * s * b, feet - 0.77 * s, 0.03 * s,
                   look.accent);
    c.rect(x + 0.04 * s, feet - 0.8 * s, x + 0.09 * s, feet - 0.64 * s, look.accent);
  }
  if (spec_.kind != shot_kind::establishing && !name_tags_[index].empty()) {
    const auto& tag = name_tags_[index];
    double top = hy - ry * 1.75 - tag.height - 8;
    int tx = static_cast<int>(x - tag.width / 2.0);
    int ty = static_cast<int>(std::max(4.0, top));
    c.rounded_rect(tx - 8, ty - 4, tx + tag.width + 8, ty + tag.height + 4, 6, ink, 150);
    c.draw_mask(tag, tx, ty, white);
  }
}

void scene_painter::paint_caption(canvas& c, const caption& cap) const {
  const int pad = height_ / 60 + 4;
  int content = cap.name.height + cap.text.height + pad / 2;
  int box_w = std::max(cap.name.width, cap.text.width) + 2 * pad;
  int x0 = (width_ - box_w) / 2;
  int y0 = height_ - height_ / 24 - content - 2 * pad;
  c.rounded_rect(x0, y0, x0 + box_w, y0 + content + 2 * pad, pad, black, 175);
  c.draw_mask(cap.name, (width_ - cap.name.width) / 2, y0 + pad, cap.name_colour);
  c.draw_mask(cap.text, (width_ - cap.text.width) / 2, y0 + pad + cap.name.height + pad / 2, white);
}

void scene_painter::paint_overlays(canvas& c, double t, int frame) const {
  const int margin = height_ / 30;
  int top = margin;
  if (!heading_.empty()) {
    int alpha = static_cast<int>(255 * std::clamp(t / 0.5, 0.0, 1.0));
    int band = heading_.height + 2 * margin;
    c.rect(0, top, width_, top + band, black, alpha * 150 / 255);
    c.draw_mask(heading_, (width_ - heading_.width) / 2, top + margin, white, alpha);
    top += band + margin / 2;
  }
  if (!action_.empty()) {
    int pad = margin / 2 + 2;
    int x0 = (width_ - action_.width) / 2 - pad;
    c.rounded_rect(x0, top, x0 + action_.width + 2 * pad, top + action_.height + 2 * pad, pad,
                   {250, 246, 230}, 215);
    c.draw_mask(action_, x0 + pad, top + pad, ink);
  }
  if (const auto* line = timeline_.active_line(frame)) {
    paint_caption(c, captions_[line->line]);
  }
  c.draw_mask(slate_, margin / 2, height_ - slate_.height - margin / 3, white, 170);
  if (!watermark_.empty()) {
    c.draw_mask(watermark_, width_ - watermark_.width - margin, margin / 2, white, 150);
  }
}

void scene_painter::paint(canvas& target, int frame) const {
  double t = static_cast<double>(frame) / spec_.fps;
  double zoom = zoom_at(t);
  paint_set(target, zoom);
  for (std::size_t i = 0; i < figures_.size(); ++i) {
    paint_figure(target, i, zoom, t, frame);
  }
  paint_overlays(target, t, frame);
}

}  // namespace reelfarm::media::detail
