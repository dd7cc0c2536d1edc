#include "reelfarm/screenplay/references.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "reelfarm/screenplay/hash.hpp"

namespace reelfarm::screenplay {
namespace {

// The espeak-ng variants a character may get: male, then female.
constexpr std::array<std::string_view, 12> voice_variants = {"m1", "m2", "m3", "m4", "m5", "m7",
                                                             "f1", "f2", "f3", "f4", "f5", "m6"};

// HSL (h in degrees, s and l in 0..1) to 8-bit RGB.
rgb from_hsl(double h, double s, double l) {
  const double c = (1.0 - std::fabs(2.0 * l - 1.0)) * s;
  const double hp = std::fmod(h, 360.0) / 60.0;
  const double x = c * (1.0 - std::fabs(std::fmod(hp, 2.0) - 1.0));
  double r = 0;
  double g = 0;
  double b = 0;
  switch (static_cast<int>(hp)) {
    case 0:
      r = c;
      g = x;
      break;
    case 1:
      r = x;
      g = c;
      break;
    case 2:
      g = c;
      b = x;
      break;
    case 3:
      g = x;
      b = c;
      break;
    case 4:
      r = x;
      b = c;
      break;
    default:
      r = c;
      b = x;
      break;
  }
  const double m = l - c / 2.0;
  auto byte = [m](double v) {
    return static_cast<std::uint8_t>(std::lround(std::clamp((v + m) * 255.0, 0.0, 255.0)));
  };
  return {byte(r), byte(g), byte(b)};
}

// A palette of four related colours: a base hue, an analogous one and two
// complements, with lightness and saturation drawn from the seed.
std::array<rgb, 4> palette_of(std::uint64_t hash, reference_kind kind) {
  std::array<rgb, 4> palette{};
  const double base = static_cast<double>(splitmix64(hash ^ 1) % 360);
  constexpr std::array<double, 4> offsets = {0.0, 30.0, 180.0, 210.0};
  for (std::size_t k = 0; k < palette.size(); ++k) {
    const std::uint64_t draw = splitmix64(hash + 0x100 + k);
    // Locations are calmer (less saturated) than characters.
    const double saturation =
        (kind == reference_kind::location ? 0.25 : 0.45) + static_cast<double>(draw % 40) / 100.0;
    const double lightness = 0.30 + static_cast<double>((draw >> 16) % 40) / 100.0;
    palette[k] = from_hsl(base + offsets[k], saturation, lightness);
  }
  return palette;
}

}  // namespace

std::string rgb::hex() const {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "#";
  for (std::uint8_t v : {r, g, b}) {
    out.push_back(digits[v >> 4]);
    out.push_back(digits[v & 0xF]);
  }
  return out;
}

consistency_reference make_reference(reference_kind kind, std::string_view project_key,
                                     std::string_view name, int speaking_rate_wpm) {
  // Domain-separated input: "reelfarm/ref/v1", kind, project, name, with NUL
  // separators so ("ab","c") and ("a","bc") never collide by construction.
  std::uint64_t h = fnv1a64("reelfarm/ref/v1");
  h = fnv1a64(std::string_view("\0", 1), h);
  h = fnv1a64(to_string(kind), h);
  h = fnv1a64(std::string_view("\0", 1), h);
  h = fnv1a64(project_key, h);
  h = fnv1a64(std::string_view("\0", 1), h);
  h = fnv1a64(name, h);
  const std::uint64_t mixed = splitmix64(h);

  consistency_reference ref;
  ref.kind = kind;
  ref.name = std::string(name);
  static constexpr char digits[] = "0123456789abcdef";
  ref.id = kind == reference_kind::character ? "chr-" : "loc-";
  for (int shift = 60; shift >= 0; shift -= 4) {
    ref.id.push_back(digits[(mixed >> shift) & 0xF]);
  }
  ref.seed = splitmix64(mixed) >> 11;
  ref.palette = palette_of(mixed, kind);
  if (kind == reference_kind::character) {
    const std::uint64_t draw = splitmix64(mixed ^ 0x766f696365ULL);  // "voice"
    ref.voice.name =
        std::string("en-us+") + std::string(voice_variants[draw % voice_variants.size()]);
    ref.voice.pitch = 35 + static_cast<int>((draw >> 8) % 31);
    // Within +-8% of the planner's speaking rate.
    const int spread = static_cast<int>((draw >> 16) % 17) - 8;
    ref.voice.speed_wpm = speaking_rate_wpm + speaking_rate_wpm * spread / 100;
  }
  return ref;
}

std::string_view to_string(reference_kind kind) noexcept {
  return kind == reference_kind::character ? "character" : "location";
}

}  // namespace reelfarm::screenplay
