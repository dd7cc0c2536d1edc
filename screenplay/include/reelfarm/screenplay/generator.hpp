#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace reelfarm::screenplay {

/// Writes a deterministic, realistic-looking Fountain screenplay of about
/// `target_bytes` (never less): a title page, then scenes with headings,
/// action, dialogue with extensions and parentheticals, dual dialogue,
/// transitions, notes, emphasis, sections and the odd boneyard. The same
/// seed gives the same bytes. For benchmarks, fuzz seeds and tests.
std::string generate_screenplay(std::size_t target_bytes, std::uint64_t seed = 1);

}  // namespace reelfarm::screenplay
