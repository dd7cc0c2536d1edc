// libFuzzer target for the Fountain parser and the shot planner. Built with
// clang and -fsanitize=fuzzer when REELFARM_BUILD_FUZZ is ON; the same
// function runs the seed corpus in ctest through fountain_corpus_driver.cpp.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
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

// Reads every byte of `text`, so that AddressSanitizer checks the view.
std::size_t touch(std::string_view text) {
  std::size_t sum = 0;
  for (char c : text) {
    sum += static_cast<unsigned char>(c);
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sp = reelfarm::screenplay;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  sp::parse_options options;
  options.max_bytes = 1 << 20;
  // Parsed from a copy that is freed at once: the document must own its
  // texts (AddressSanitizer reports any view left into the input).
  auto doc = [&] {
    const std::string copy(input);
    return sp::parse_fountain(copy, options);
  }();
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
  doc = sp::document{};  // the plan must keep the texts it views alive
  if (planned) {
    const sp::plan copy = *planned;  // copies share the texts...
    planned = sp::plan{};            // ...and outlive the original
    std::size_t bytes = 0;
    for (const auto& scene : copy.scenes) {
      bytes += touch(scene.heading) + touch(scene.location) + touch(scene.time_of_day);
      for (const auto& shot : scene.shots) {
        require(shot.duration >= settings.min_shot && shot.duration <= settings.max_shot);
        bytes += touch(shot.text);
        for (const auto& line : shot.speech) {
          bytes += touch(line.character) + touch(line.parenthetical) + touch(line.text);
        }
        for (std::string_view name : shot.characters) {
          bytes += touch(name);
        }
      }
    }
    require(copy.cost_credits == sp::cost_credits(copy.duration));
    require(bytes < std::numeric_limits<std::size_t>::max());
  }
  return 0;
}
