#pragma once

#include <cstdint>
#include <string_view>

namespace reelfarm::screenplay {

/// FNV-1a, 64 bits: a stable hash with a published definition, so seeds and
/// ids derived from names are the same on every machine, compiler and run
/// (std::hash promises none of that).
constexpr std::uint64_t fnv1a64(std::string_view bytes,
                                std::uint64_t state = 0xcbf29ce484222325ULL) noexcept {
  for (char c : bytes) {
    state ^= static_cast<unsigned char>(c);
    state *= 0x100000001b3ULL;
  }
  return state;
}

/// SplitMix64's finaliser: spreads a hash into well-mixed bits, used to draw
/// several independent values (palette colours, voice) from one seed.
constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace reelfarm::screenplay
