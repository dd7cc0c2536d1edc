// Render benchmark (issue #7): wall time of `reelfarm render` on a screenplay
// with 1 and with 2 local nodes in the same run, and the farm's overhead
// against the pure render+encode time of the shots.
//
// Each run is the real command, as a user types it, on a fresh data dir
// (embedded PostgreSQL and Redis start and stop inside it); runs of the node
// counts alternate, best of --repeats. The pure render+encode time of every
// shot is what its node measured around media::shot_renderer::render (speech,
// drawing, x264/AAC encode) and wrote into the segment's sidecar JSON
// ("timing" in VIDEO-CLIP.mp4.json, farm/node/animatic_backend.hpp).
//
// Figures, per node count N (docs/BENCHMARKS.md, "Render (issue #7)"):
//   wall       the whole command: services, farm, shots, assembly, export
//   phase      job start to film complete (what `reelfarm render` prints)
//   sum        sum over shots of the pure render+encode time
//   ideal      sum / N: the wall time of a perfect farm with no overhead
//   overhead   wall / ideal - 1 (and phase / ideal - 1)
// For N = 1 the overhead is exactly "wall time against the sum of the pure
// render+encode times". For N > 1 it also counts idle nodes (imbalance).
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reelfarm/common/process.hpp"

namespace {

using namespace reelfarm;
namespace fs = std::filesystem;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

/// One configuration: N nodes, T encoder threads each (0: reelfarm's default,
/// the cores split between the nodes).
struct setup {
  int nodes = 1;
  int threads = 0;
  std::string name() const {
    return std::to_string(nodes) + (threads > 0 ? ":" + std::to_string(threads) : "");
  }
  bool operator<(const setup& o) const {
    return nodes != o.nodes ? nodes < o.nodes : threads < o.threads;
  }
};

struct bench_args {
  std::string reelfarm = REELFARM_BINARY;
  std::string screenplay = REELFARM_SOURCE_DIR "/examples/sample.fountain";
  std::vector<setup> setups = {{1, 0}, {2, 0}};
  int repeats = 3;
  int cores = 2;  ///< pin to this many cores (0: leave the affinity alone)
  int boost = 0;  ///< < 0: run in an own autogroup at this nice value (root)
  std::string resolution;
  std::string work = "/tmp";
  std::string json_out;
  /// false: a fresh data dir per run (initdb included); true: one data dir per
  /// setup, used once untimed first, as a user's ~/.reelfarm after the first film.
  bool warm = false;
};

/// One `reelfarm render` run.
struct run_figures {
  setup config;
  int nodes = 0;
  double wall_s = 0;
  double phase_s = 0;
  int shots = 0;
  double render_sum_s = 0;  ///< pure render+encode, summed over shots
  double lease_sum_s = 0;   ///< whole backend runs (renderer, render, checksum), summed
  double cpu_sum_s = 0;     ///< CPU time of the nodes during the renders, summed
  double start_to_first_shot_s = 0;
  double last_shot_to_exit_s = 0;
  double node_busy_max_s = 0;  ///< the busiest node's render time
  /// Time nodes sat idle between two of their shots (summed over nodes): the
  /// farm's per-shot cost (result -> coordinator -> next lease -> node).
  double idle_between_shots_s = 0;
  int encoder_threads = 0;
};

void usage() {
  std::fputs(
      "usage: reelfarm_render_bench [--reelfarm PATH] [--screenplay FILE] [--nodes 1,2]\n"
      "                             [--repeats N] [--cores C] [--resolution WxH]\n"
      "                             [--work-dir DIR] [--json FILE] [--boost NICE] [--warm]\n"
      "  --nodes takes N or N:T items: N nodes, T x264 threads each (default: the\n"
      "  cores split between the nodes, as `reelfarm render` does).\n"
      "  --boost -15: run in a session of its own whose scheduler autogroup has\n"
      "  nice -15 (root only): on a machine shared by several login sessions the\n"
      "  kernel splits the CPU between sessions first, so without it every\n"
      "  other busy session takes its share of the cores away from the nodes.\n"
      "  --warm: one data dir per setup, rendered into once before the timed runs\n"
      "  (no initdb in the figures); default: a fresh data dir per run.\n",
      stderr);
}

std::optional<bench_args> parse(int argc, char** argv) {
  bench_args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    bool has = i + 1 < argc;
    if (k == "--reelfarm" && has) {
      a.reelfarm = argv[++i];
    } else if (k == "--screenplay" && has) {
      a.screenplay = argv[++i];
    } else if (k == "--nodes" && has) {
      a.setups.clear();
      std::string list = argv[++i];
      for (std::size_t p = 0; p < list.size();) {
        auto comma = list.find(',', p);
        auto item = list.substr(p, comma - p);
        auto colon = item.find(':');
        setup s{std::atoi(item.substr(0, colon).c_str()),
                colon == std::string::npos ? 0 : std::atoi(item.substr(colon + 1).c_str())};
        a.setups.push_back(s);
        p = comma == std::string::npos ? list.size() : comma + 1;
      }
    } else if (k == "--repeats" && has) {
      a.repeats = std::max(1, std::atoi(argv[++i]));
    } else if (k == "--warm") {
      a.warm = true;
    } else if (k == "--boost" && has) {
      a.boost = std::min(0, std::atoi(argv[++i]));
    } else if (k == "--cores" && has) {
      a.cores = std::max(0, std::atoi(argv[++i]));
    } else if (k == "--resolution" && has) {
      a.resolution = argv[++i];
    } else if (k == "--work-dir" && has) {
      a.work = argv[++i];
    } else if (k == "--json" && has) {
      a.json_out = argv[++i];
    } else {
      return std::nullopt;
    }
  }
  for (const auto& s : a.setups) {
    if (s.nodes < 1 || s.nodes > 64 || s.threads < 0 || s.threads > 64) {
      return std::nullopt;
    }
  }
  return a;
}

// With kernel.sched_autogroup_enabled, CPU time is shared between sessions
// (autogroups) before nice applies inside one: a render competing with other
// people's compiles gets 1/k of the machine whatever its node count. A session
// of its own with a negative autogroup nice gets the cores first, which is
// what a machine dedicated to rendering would give. Children inherit both.
bool boost_priority(int nice_value) {
  if (nice_value >= 0) {
    return true;
  }
  if (::setsid() < 0) {
    return false;
  }
  std::ofstream autogroup("/proc/self/autogroup");
  autogroup << nice_value;
  autogroup.flush();
  return static_cast<bool>(autogroup) && ::setpriority(PRIO_PROCESS, 0, nice_value) == 0;
}

// "On 2 cores": the process and every child (services, nodes, espeak-ng)
// inherit the mask, and `reelfarm render` splits what it sees among nodes.
void pin_to_cores(int cores) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cores <= 0 || sched_getaffinity(0, sizeof set, &set) != 0) {
    return;
  }
  cpu_set_t pinned;
  CPU_ZERO(&pinned);
  int taken = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE && taken < cores; ++cpu) {
    if (CPU_ISSET(cpu, &set)) {
      CPU_SET(cpu, &pinned);
      ++taken;
    }
  }
  sched_setaffinity(0, sizeof pinned, &pinned);
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void make_open_dir(const fs::path& dir) {
  fs::create_directories(dir);
  // The embedded servers may run as another account (as root: postgres).
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
}

/// One run in `dir` (log, film) on the data dir `data`.
std::optional<run_figures> run_once(const bench_args& a, const setup& config, const fs::path& dir,
                                    const fs::path& data) {
  int nodes = config.nodes;
  std::error_code ec;
  fs::remove_all(dir, ec);
  make_open_dir(dir);
  make_open_dir(data.parent_path());
  process_options p;
  p.argv = {a.reelfarm,           "--data-dir", data.string(),          "render",
            a.screenplay,         "--out",      (dir / "out").string(), "--nodes",
            std::to_string(nodes)};
  if (!a.resolution.empty()) {
    p.argv.insert(p.argv.end(), {"--resolution", a.resolution});
  }
  if (config.threads > 0) {
    p.argv.insert(p.argv.end(), {"--threads", std::to_string(config.threads)});
  }
  p.output_file = (dir / "render.log").string();
  auto launched_ms = unix_ms();
  auto start = steady::now();
  auto status = run_program(p, std::chrono::minutes(10));
  run_figures f;
  f.config = config;
  f.nodes = nodes;
  f.wall_s = std::chrono::duration<double>(steady::now() - start).count();
  auto exited_ms = unix_ms();
  auto log = slurp(dir / "render.log");
  if (!status || *status != 0) {
    std::fprintf(stderr, "render with %d node(s) failed:\n%s\n", nodes, log.c_str());
    return std::nullopt;
  }
  std::smatch m;
  if (std::regex_search(log, m, std::regex(R"((\d+) shots in ([0-9.]+) s on)"))) {
    f.shots = std::stoi(m[1]);
    f.phase_s = std::stod(m[2]);
  }
  std::int64_t first_start = INT64_MAX;
  std::int64_t last_end = 0;
  std::map<long, double> busy;  // node pid -> render seconds
  std::map<long, std::vector<std::pair<std::int64_t, std::int64_t>>> spans;  // pid -> renders
  for (const auto& e : fs::recursive_directory_iterator(data / "media" / "users")) {
    auto name = e.path().filename().string();
    if (!e.is_regular_file() || !name.ends_with(".mp4.json") ||
        e.path().parent_path().filename() != "video-clips") {
      continue;
    }
    auto doc = json::parse(slurp(e.path()), nullptr, false);
    if (doc.is_discarded() || !doc.contains("timing")) {
      std::fprintf(stderr, "no timing in %s: a node built before the timing record?\n",
                   e.path().c_str());
      return std::nullopt;
    }
    const auto& t = doc["timing"];
    if (t.value("started_at_ms", std::int64_t{0}) < launched_ms) {
      continue;  // an earlier run's shot in a warm data dir
    }
    double render_s = t.value("render_ms", 0.0) / 1000.0;
    f.render_sum_s += render_s;
    f.lease_sum_s += t.value("lease_ms", 0.0) / 1000.0;
    f.cpu_sum_s += t.value("cpu_ms", 0.0) / 1000.0;
    first_start = std::min<std::int64_t>(first_start, t.value("started_at_ms", INT64_MAX));
    last_end = std::max<std::int64_t>(last_end, t.value("finished_at_ms", std::int64_t{0}));
    busy[t.value("node_pid", 0L)] += render_s;
    spans[t.value("node_pid", 0L)].emplace_back(t.value("started_at_ms", std::int64_t{0}),
                                                t.value("finished_at_ms", std::int64_t{0}));
    f.encoder_threads = t.value("encoder_threads", 0);
  }
  for (const auto& [pid, s] : busy) {
    f.node_busy_max_s = std::max(f.node_busy_max_s, s);
  }
  for (auto& [pid, list] : spans) {
    std::sort(list.begin(), list.end());
    for (std::size_t i = 1; i < list.size(); ++i) {
      f.idle_between_shots_s +=
          static_cast<double>(std::max<std::int64_t>(0, list[i].first - list[i - 1].second)) /
          1000.0;
    }
  }
  if (last_end > 0) {
    f.start_to_first_shot_s = static_cast<double>(first_start - launched_ms) / 1000.0;
    f.last_shot_to_exit_s = static_cast<double>(exited_ms - last_end) / 1000.0;
  }
  fs::remove_all(dir, ec);
  return f;
}

json to_json(const run_figures& f) {
  double ideal = f.render_sum_s / f.nodes;
  return {{"setup", f.config.name()},
          {"nodes", f.nodes},
          {"wall_s", f.wall_s},
          {"phase_s", f.phase_s},
          {"shots", f.shots},
          {"render_encode_sum_s", f.render_sum_s},
          {"lease_sum_s", f.lease_sum_s},
          {"render_cpu_sum_s", f.cpu_sum_s},
          {"ideal_s", ideal},
          {"overhead_wall", f.wall_s / ideal - 1},
          {"overhead_phase", f.phase_s / ideal - 1},
          {"start_to_first_shot_s", f.start_to_first_shot_s},
          {"last_shot_to_exit_s", f.last_shot_to_exit_s},
          {"busiest_node_render_s", f.node_busy_max_s},
          {"idle_between_shots_s", f.idle_between_shots_s},
          {"encoder_threads", f.encoder_threads}};
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse(argc, argv);
  if (!args) {
    usage();
    return 2;
  }
  pin_to_cores(args->cores);
  if (!boost_priority(args->boost)) {
    std::fprintf(stderr, "cannot raise the priority (--boost needs root); running without\n");
    args->boost = 0;
  }
  cpu_set_t set;
  sched_getaffinity(0, sizeof set, &set);
  std::printf("reelfarm render benchmark: %s, setups (nodes[:threads])", args->screenplay.c_str());
  for (const auto& c : args->setups) {
    std::printf(" %s", c.name().c_str());
  }
  std::printf(", best of %d, %d cores, autogroup nice %d, %s data dirs, load average %s\n",
              args->repeats, CPU_COUNT(&set), args->boost, args->warm ? "warm" : "fresh",
              load_average().c_str());
  auto work = fs::path(args->work) / ("reelfarm-render-bench-" + std::to_string(::getpid()));
  std::map<setup, std::vector<run_figures>> runs;
  for (int r = 0; r < args->repeats; ++r) {
    // Alternate the order, so drift in the machine's load hits all alike.
    auto order = args->setups;
    if (r % 2 == 1) {
      std::reverse(order.begin(), order.end());
    }
    for (const auto& c : order) {
      auto run_dir = work / ("run-" + std::to_string(r) + "-" + c.name());
      auto data = args->warm ? work / ("warm-" + c.name()) / "data" : run_dir / "data";
      if (args->warm && r == 0 && !run_once(*args, c, run_dir, data)) {  // untimed: initdb
        return 1;
      }
      auto f = run_once(*args, c, run_dir, data);
      if (!f) {
        return 1;
      }
      std::printf(
          "  run %d, %d node(s): wall %.2f s, render phase %.2f s, %d shots, render+encode "
          "sum %.2f s (x264 threads %d), first shot after %.2f s, exit %.2f s after the last, "
          "nodes idle between shots %.2f s, backend runs %.2f s, cores busy per render %.2f\n",
          r + 1, c.nodes, f->wall_s, f->phase_s, f->shots, f->render_sum_s, f->encoder_threads,
          f->start_to_first_shot_s, f->last_shot_to_exit_s, f->idle_between_shots_s, f->lease_sum_s,
          f->render_sum_s > 0 ? f->cpu_sum_s / f->render_sum_s : 0.0);
      std::fflush(stdout);
      runs[c].push_back(*f);
    }
  }
  std::error_code ec;
  fs::remove_all(work, ec);
  json out = json::object();
  std::printf("\nbest of %d (by wall time):\n", args->repeats);
  std::printf("%7s %8s %8s %8s %10s %8s %14s %15s\n", "nodes", "threads", "wall s", "phase s",
              "r+e sum s", "ideal s", "overhead wall", "overhead phase");
  std::map<setup, run_figures> best;
  for (const auto& [c, list] : runs) {
    best[c] = *std::min_element(list.begin(), list.end(),
                                [](const auto& x, const auto& y) { return x.wall_s < y.wall_s; });
    const auto& f = best[c];
    double ideal = f.render_sum_s / c.nodes;
    std::printf("%7d %8d %8.2f %8.2f %10.2f %8.2f %13.1f%% %14.1f%%\n", c.nodes, f.encoder_threads,
                f.wall_s, f.phase_s, f.render_sum_s, ideal, 100 * (f.wall_s / ideal - 1),
                100 * (f.phase_s / ideal - 1));
    out["best"][c.name()] = to_json(f);
    for (const auto& each : list) {
      out["runs"][c.name()].push_back(to_json(each));
    }
  }
  const run_figures* one = nullptr;
  for (const auto& [c, f] : best) {
    if (c.nodes == 1 && (one == nullptr || c.threads == 0)) {
      one = &f;
    }
  }
  for (const auto& [c, f] : best) {
    if (one == nullptr || c.nodes == 1) {
      continue;
    }
    double wall = one->wall_s / f.wall_s;
    double phase = one->phase_s / f.phase_s;
    std::printf("speed-up %s vs %s: wall %.2fx, render phase %.2fx (goal >= 1.7x)\n",
                c.name().c_str(), one->config.name().c_str(), wall, phase);
    out["speedup"][c.name()] = {{"wall", wall}, {"phase", phase}};
  }
  out["load_average_end"] = load_average();
  std::printf("load average at the end: %s\n", load_average().c_str());
  if (!args->json_out.empty()) {
    std::ofstream(args->json_out) << out.dump(2) << "\n";
  }
  return 0;
}
