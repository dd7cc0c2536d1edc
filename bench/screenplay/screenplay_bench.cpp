// Parse + plan throughput on a generated 10 MB screenplay, next to the
// baseline of reading the same bytes and splitting them into lines.
#include <benchmark/benchmark.h>

#include <sstream>
#include <string>
#include <vector>

#include "reelfarm/screenplay/fountain.hpp"
#include "reelfarm/screenplay/generator.hpp"
#include "reelfarm/screenplay/plan.hpp"

namespace {

namespace sp = reelfarm::screenplay;

const std::string& screenplay_text() {
  static const std::string text = sp::generate_screenplay(10 * 1024 * 1024, 1);
  return text;
}

void bm_parse(benchmark::State& state) {
  const std::string& text = screenplay_text();
  for (auto _ : state) {
    auto doc = sp::parse_fountain(text);
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void bm_parse_plan(benchmark::State& state) {
  const std::string& text = screenplay_text();
  const reelfarm::planner_settings settings;
  for (auto _ : state) {
    auto doc = sp::parse_fountain(text);
    auto planned = sp::plan_screenplay(std::move(*doc), settings, "bench");
    benchmark::DoNotOptimize(planned);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void bm_baseline_getline(benchmark::State& state) {
  const std::string& text = screenplay_text();
  for (auto _ : state) {
    std::istringstream in(text);
    std::vector<std::string> lines;
    std::string line;
    while (std::getline(in, line)) {
      lines.push_back(line);
    }
    benchmark::DoNotOptimize(lines);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

}  // namespace

BENCHMARK(bm_parse)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_parse_plan)->Unit(benchmark::kMillisecond);
BENCHMARK(bm_baseline_getline)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
