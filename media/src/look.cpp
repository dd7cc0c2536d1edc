#include "look.hpp"

#include <algorithm>
#include <cmath>

namespace reelfarm::media::detail {
namespace {

// splitmix64: a tiny, well-mixed generator; the same seed gives the same
// sequence on every platform (no std:: distributions, whose output varies).
class sequence {
 public:
  explicit sequence(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(next() >> 11) / 9007199254740992.0;
  }
  int pick(int count) { return static_cast<int>(next() % static_cast<std::uint64_t>(count)); }

 private:
  std::uint64_t state_;
};

rgb hsv(double h, double s, double v) {
  double c = v * s;
  double x = c * (1 - std::abs(std::fmod(h / 60.0, 2.0) - 1));
  double m = v - c;
  double r = 0, g = 0, b = 0;
  int sector = static_cast<int>(h / 60.0) % 6;
  switch (sector) {
    case 0:
      r = c, g = x;
      break;
    case 1:
      r = x, g = c;
      break;
    case 2:
      g = c, b = x;
      break;
    case 3:
      g = x, b = c;
      break;
    case 4:
      r = x, b = c;
      break;
    default:
      r = c, b = x;
      break;
  }
  auto to_byte = [m](double u) { return static_cast<std::uint8_t>(std::lround((u + m) * 255)); };
  return {to_byte(r), to_byte(g), to_byte(b)};
}

rgb palette_or(const std::vector<rgb>& palette, std::size_t index, sequence& seq, double s,
               double v) {
  rgb fallback = hsv(seq.uniform(0, 360), s, v);  // drawn always, so the sequence stays aligned
  return index < palette.size() ? palette[index] : fallback;
}

constexpr rgb skin_tones[] = {{255, 224, 196}, {241, 194, 155}, {224, 172, 125},
                              {198, 134, 86},  {141, 85, 54},   {94, 60, 40}};
constexpr rgb hair_tones[] = {{40, 30, 25},    {90, 60, 35},  {170, 120, 60},
                              {220, 190, 120}, {120, 40, 25}, {180, 180, 185}};

}  // namespace

rgb blend(rgb a, rgb b, double t) {
  auto mix = [t](std::uint8_t x, std::uint8_t y) {
    return static_cast<std::uint8_t>(std::lround(x + (y - x) * std::clamp(t, 0.0, 1.0)));
  };
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

figure_look derive_figure(const character_ref& character) {
  sequence seq(character.seed ^ 0xC4A7AC7E5ULL);
  figure_look look;
  look.skin = skin_tones[seq.pick(6)];
  look.hair = hair_tones[seq.pick(6)];
  look.shirt = palette_or(character.palette, 0, seq, 0.65, 0.8);
  look.trousers = palette_or(character.palette, 1, seq, 0.4, 0.35);
  look.accent = palette_or(character.palette, 3, seq, 0.8, 0.9);
  if (character.palette.size() > 2) {
    look.hair = character.palette[2];
  }
  look.height = seq.uniform(0.88, 1.08);
  look.build = seq.uniform(0.85, 1.25);
  look.head = seq.uniform(0.92, 1.12);
  look.hair_style = seq.pick(4);
  look.accessory = seq.pick(4);
  return look;
}

location_look derive_location(const location_ref& location) {
  sequence seq(location.seed ^ 0x10CA7102ULL);
  location_look look;
  const auto& name = location.name;
  look.exterior = name.starts_with("EXT") || name.starts_with("ext") || name.starts_with("Ext");
  rgb base = palette_or(location.palette, 0, seq, look.exterior ? 0.45 : 0.3, 0.85);
  rgb floor = palette_or(location.palette, 1, seq, 0.35, 0.45);
  rgb detail = palette_or(location.palette, 2, seq, 0.55, 0.6);
  look.upper_top = blend(base, {255, 255, 255}, look.exterior ? 0.1 : 0.0);
  look.upper_bottom = blend(base, {255, 255, 255}, 0.35);
  look.floor_far = blend(floor, {0, 0, 0}, 0.1);
  look.floor_near = blend(floor, {0, 0, 0}, 0.35);
  look.horizon = seq.uniform(0.58, 0.66);
  int count = 3 + seq.pick(4);
  double x = seq.uniform(-0.05, 0.1);
  for (int i = 0; i < count && x < 1.0; ++i) {
    double w = seq.uniform(0.08, 0.22);
    double h = look.exterior ? seq.uniform(0.2, 0.45) : seq.uniform(0.12, 0.3);
    double top = look.exterior ? look.horizon - h : seq.uniform(0.12, look.horizon - h * 0.6);
    rgb c = blend(detail, i % 2 ? rgb{255, 255, 255} : rgb{0, 0, 0}, seq.uniform(0.05, 0.3));
    look.props.push_back(
        {x, top, x + w, std::min(top + h, look.horizon), c, !look.exterior && i % 3 == 2});
    x += w + seq.uniform(0.03, 0.15);
  }
  return look;
}

}  // namespace reelfarm::media::detail
