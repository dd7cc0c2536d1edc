// `reelfarm bench NAME`: named benchmarks. Each reports its figure next to a
// baseline measured in the same run, so results compare across machines as
// ratios (docs/BENCHMARKS.md). Add a benchmark by adding a row to `benchmarks`.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/bench/scheduler_bench.hpp"
#include "reelfarm/screenplay/fountain.hpp"
#include "reelfarm/screenplay/generator.hpp"
#include "reelfarm/screenplay/plan.hpp"

namespace reelfarm::app {
namespace {

namespace sp = reelfarm::screenplay;
using clock_type = std::chrono::steady_clock;

struct benchmark {
  std::string_view name;
  int (*run)(const std::vector<std::string>& args, const global_options& options);
  std::string_view summary;
};

int bench_screenplay(const std::vector<std::string>& args, const global_options& options);

int bench_scheduler(const std::vector<std::string>& args, const global_options& /*options*/) {
  // The lost-node phase logs every expected loss; only real problems should show.
  log::configure(log::level::error, log::format::kv);
  return farm::run_scheduler_bench(args);
}

constexpr benchmark benchmarks[] = {
    {"screenplay", bench_screenplay,
     "Fountain parse + shot plan throughput (MB/s) against reading and splitting lines"},
    {"scheduler", bench_scheduler,
     "lease manager: leases/s, time-to-book p50/p99, lost-node detection (--nodes N --shots M)"},
};

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: reelfarm bench NAME [ARGS]   (reelfarm bench NAME --help for its flags)\n\n"
      "benchmarks:\n",
      out);
  for (const auto& b : benchmarks) {
    std::fprintf(out, "  %-12.*s %.*s\n", static_cast<int>(b.name.size()), b.name.data(),
                 static_cast<int>(b.summary.size()), b.summary.data());
  }
}

// --- screenplay ------------------------------------------------------------

struct screenplay_flags {
  double size_mb = 10.0;
  int runs = 5;
  bool check = false;
};

void print_screenplay_usage(std::FILE* out) {
  std::fputs(
      "usage: reelfarm bench screenplay [--size-mb N] [--runs N] [--check]\n\n"
      "Generates a deterministic, realistic Fountain screenplay of N MB (default 10)\n"
      "in memory, then times, best of --runs (default 5):\n"
      "  parse+plan  parse_fountain + plan_screenplay with the default planner settings\n"
      "  baseline    copying the same bytes and splitting them into lines with\n"
      "              std::getline, as a program that reads a text file line by line does\n"
      "Goal: parse+plan >= 100 MB/s and within 3x of the baseline. --check exits 1\n"
      "when the goal is not met.\n",
      out);
}

template <class Number>
bool parse_number(const std::string& text, Number& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out > 0;
}

std::optional<screenplay_flags> parse_screenplay_flags(const std::vector<std::string>& args,
                                                       bool& help) {
  screenplay_flags flags;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool has_value = i + 1 < args.size();
    if (arg == "--help" || arg == "-h") {
      help = true;
    } else if (arg == "--check") {
      flags.check = true;
    } else if (arg == "--size-mb" && has_value && parse_number(args[i + 1], flags.size_mb) &&
               flags.size_mb <= 1000) {
      ++i;
    } else if (arg == "--runs" && has_value && parse_number(args[i + 1], flags.runs) &&
               flags.runs <= 1000) {
      ++i;
    } else {
      std::fprintf(stderr, "reelfarm bench screenplay: bad argument '%s'\n", arg.c_str());
      return std::nullopt;
    }
  }
  return flags;
}

// Wall and processor time of one run, in seconds.
struct timing {
  double wall = 1e300;
  double cpu = 1e300;
};

// Best (shortest) wall and processor times of `runs` calls of `work`. The
// processor time is less disturbed by other work on a shared machine.
template <class Work>
timing best_of(int runs, Work&& work) {
  timing best;
  for (int r = 0; r < runs; ++r) {
    const auto start = clock_type::now();
    const std::clock_t cpu_start = std::clock();
    work();
    const std::chrono::duration<double> elapsed = clock_type::now() - start;
    const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    best.wall = std::min(best.wall, elapsed.count());
    best.cpu = std::min(best.cpu, cpu);
  }
  return best;
}

int bench_screenplay(const std::vector<std::string>& args, const global_options& /*options*/) {
  bool help = false;
  const auto flags = parse_screenplay_flags(args, help);
  if (help) {
    print_screenplay_usage(stdout);
    return exit_ok;
  }
  if (!flags) {
    print_screenplay_usage(stderr);
    return exit_usage;
  }
  const auto bytes = static_cast<std::size_t>(flags->size_mb * 1024 * 1024);
  const std::string text = sp::generate_screenplay(bytes, 1);
  const double mb = static_cast<double>(text.size()) / (1024.0 * 1024.0);
  const planner_settings settings;

  std::size_t scenes = 0;
  std::size_t shots = 0;
  bool failed = false;
  const timing parse_s = best_of(flags->runs, [&] {
    auto doc = sp::parse_fountain(text);
    failed = failed || !doc;
  });
  const timing total_s = best_of(flags->runs, [&] {
    auto doc = sp::parse_fountain(text);
    auto planned = doc ? sp::plan_screenplay(std::move(*doc), settings, "bench") : doc.error();
    failed = failed || !planned;
    if (planned) {
      scenes = planned->scenes.size();
      shots = planned->shot_count();
    }
  });
  std::size_t lines = 0;
  const timing baseline_s = best_of(flags->runs, [&] {
    std::istringstream in(text);  // "reading the file": the bytes are copied into the stream
    std::vector<std::string> split;
    std::string line;
    while (std::getline(in, line)) {
      split.push_back(line);
    }
    lines = split.size();
  });
  if (failed) {
    std::fputs("reelfarm bench screenplay: the generated screenplay did not parse and plan\n",
               stderr);
    return exit_failure;
  }

  const double throughput = mb / total_s.wall;
  const double baseline = mb / baseline_s.wall;
  const double ratio = total_s.wall / baseline_s.wall;
  const bool met = throughput >= 100.0 && ratio <= 3.0;
  std::printf("screenplay benchmark: %.2f MB generated Fountain screenplay, best of %d runs\n", mb,
              flags->runs);
  std::printf("  parse+plan  %8.1f MB/s  %8.1f ms  (cpu %.1f MB/s; %zu scenes, %zu shots)\n",
              throughput, total_s.wall * 1e3, mb / total_s.cpu, scenes, shots);
  std::printf("  parse only  %8.1f MB/s  %8.1f ms  (cpu %.1f MB/s)\n", mb / parse_s.wall,
              parse_s.wall * 1e3, mb / parse_s.cpu);
  std::printf(
      "  baseline    %8.1f MB/s  %8.1f ms  (cpu %.1f MB/s; read and split into %zu lines)\n",
      baseline, baseline_s.wall * 1e3, mb / baseline_s.cpu, lines);
  std::printf("  ratio       %8.2fx the baseline's time (cpu %.2fx)\n", ratio,
              total_s.cpu / baseline_s.cpu);
  std::printf("  goal        >= 100 MB/s and within 3x of the baseline: %s\n",
              met ? "met" : "NOT met");
  return flags->check && !met ? exit_failure : exit_ok;
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args, const global_options& options) {
  if (args.empty()) {
    print_usage(stderr);
    return exit_usage;
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help" || args[0] == "list") {
    print_usage(stdout);
    return exit_ok;
  }
  for (const auto& b : benchmarks) {
    if (b.name == args[0]) {
      return b.run(std::vector<std::string>(args.begin() + 1, args.end()), options);
    }
  }
  std::fprintf(stderr, "reelfarm bench: no benchmark named '%s'\n\n", args[0].c_str());
  print_usage(stderr);
  return exit_usage;
}

}  // namespace reelfarm::app
