// libFuzzer target for the Fountain parser and the shot planner. Built with
// clang and -fsanitize=fuzzer when REELFARM_BUILD_FUZZ is ON; the same
// function runs the seed corpus in ctest through fountain_corpus_driver.cpp.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "reelfarm/screenplay/cost.hpp"
#include "reelfarm/screenplay/emphasis.hpp"
#include "reelfarm/screenplay/fountain.hpp"
#include "reelfarm/screenplay/plan.hpp"

namespace {

// Invariants that must hold for any input; a violation aborts so the fuzzer
// reports it like a crash.
void require(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sp = reelfarm::screenplay;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  sp::parse_options options;
  options.max_bytes = 1 << 20;
  auto doc = sp::parse_fountain(input, options);
  if (!doc) {
    return 0;
  }
  std::uint32_t last_line = 0;
  std::size_t text_bytes = 0;
  for (const auto& e : doc->elements) {
    require(e.line >= 1 && e.line <= doc->line_count && e.line >= last_line);
    last_line = e.line;
    text_bytes += e.text.size();
    (void)sp::parse_emphasis(e.text);
  }
  // Tabs become four spaces and invalid bytes three; nothing else grows.
  require(text_bytes <= 4 * size + 16);

  reelfarm::planner_settings settings;
  auto planned = sp::plan_screenplay(*doc, settings, "fuzz");
  if (planned) {
    for (const auto& scene : planned->scenes) {
      for (const auto& shot : scene.shots) {
        require(shot.duration >= settings.min_shot && shot.duration <= settings.max_shot);
      }
    }
    require(planned->cost_credits == sp::cost_credits(planned->duration));
  }
  return 0;
}
