// The scheduler benchmark. Three phases, each printed on its own line:
//  1. throughput: every shot granted, accepted and completed through encoded
//     and decoded frames; nodes heartbeat once per real second meanwhile;
//  2. time-to-book: one shot at a time on an idle farm, submit -> offer frame;
//  3. lost-node detection on a simulated clock: heartbeats 1 s apart plus up
//     to 1 s jitter, some nodes killed; detection time and false losses.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "reelfarm/farm/bench/scheduler_bench.hpp"
#include "reelfarm/farm/coordinator/lease_manager.hpp"
#include "reelfarm/farm/protocol/codec.hpp"

namespace reelfarm::farm {
namespace {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

struct bench_options {
  int nodes = 1200;
  int shots = 6000;
  int users = 200;
  unsigned seed = 42;
};

bool parse(const std::vector<std::string>& args, bench_options& o) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto value = [&](int& out) {
      if (i + 1 >= args.size()) {
        return false;
      }
      try {
        out = std::stoi(args[++i]);
      } catch (...) {
        return false;
      }
      return out > 0;
    };
    int seed = 0;
    bool ok = args[i] == "--nodes"   ? value(o.nodes)
              : args[i] == "--shots" ? value(o.shots)
              : args[i] == "--users" ? value(o.users)
              : args[i] == "--seed"  ? (value(seed) && (o.seed = static_cast<unsigned>(seed), true))
                                     : false;
    if (!ok) {
      std::fprintf(stderr,
                   "usage: reelfarm bench scheduler [--nodes N] [--shots M] [--users U] "
                   "[--seed S]\n");
      return false;
    }
  }
  return true;
}

// The node population: a quarter CPU-only, the rest with one GPU of 24, 48
// or 80 GB; every node runs the animatic backend, half also comfyui.
node_spec make_node(int i) {
  node_spec n;
  n.id = "node-" + std::to_string(i);
  n.hostname = n.id + ".bench";
  n.slots = 1;
  static const std::uint64_t gpu[] = {0, 24576, 49152, 81920};
  if (gpu[i % 4] > 0) {
    n.gpus.push_back({0, gpu[i % 4], 0});
  }
  n.backends = {"animatic"};
  if (i % 2 == 1) {
    n.backends.push_back("comfyui");
  }
  n.tags = {i % 3 == 0 ? "zone-a" : "zone-b"};
  return n;
}

shot_request make_shot(int i, const bench_options& o, std::mt19937& rng) {
  shot_request s;
  s.shot_id = "shot-" + std::to_string(i);
  auto user = static_cast<int>(rng() % static_cast<unsigned>(o.users));
  s.user_id = "user-" + std::to_string(user);
  s.job_id = "job-" + std::to_string(user) + "-" + std::to_string(i / 50);
  s.priority = user % 5 == 0 ? plan_priority::priority : plan_priority::standard;
  bool comfy = rng() % 5 == 0;
  s.backend = comfy ? "comfyui" : "animatic";
  s.gpu_memory_mb = comfy ? 16000 + (rng() % 3) * 16000 : 0;
  s.references = {"char:" + std::to_string(user) + "-" + std::to_string(rng() % 4)};
  s.spec = R"({"scene":1,"duration_ms":4000})";
  return s;
}

// Through the wire format and back, as a node or the coordinator would.
frame wire(const frame& f) {
  auto decoded = decode_frame(encode_frame(f));
  if (!decoded) {
    std::fprintf(stderr, "bench: frame failed to decode: %s\n", decoded.error().message().c_str());
    std::abort();
  }
  return std::move(decoded).value();
}

void register_all(lease_manager& m, int nodes) {
  for (int i = 0; i < nodes; ++i) {
    auto spec = make_node(i);
    register_msg r{spec.hostname, spec.gpus, spec.slots, spec.backends, spec.tags, {}, {}, "bench"};
    auto f = wire(frame{spec.id, r});
    const auto& m2 = std::get<register_msg>(f.body);
    node_spec back{f.node, m2.hostname, m2.gpus, m2.slots, m2.backends, m2.tags, m2.references};
    (void)m.register_node(back, m2.leases);
  }
}

// Offers become accept + done frames; returns how many completed.
std::size_t answer_offers(lease_manager& m) {
  std::size_t done = 0;
  for (auto& e : m.take_events()) {
    auto* o = std::get_if<offer_event>(&e);
    if (o == nullptr) {
      continue;
    }
    auto offer = std::get<lease_offer_msg>(wire(frame{o->node_id, o->offer}).body);
    auto accept = wire(frame{o->node_id, lease_accept_msg{offer.lease, offer.shot}});
    (void)m.accept(accept.node, std::get<lease_accept_msg>(accept.body));
    auto fin =
        wire(frame{o->node_id, done_msg{offer.lease, offer.shot, "/seg/" + offer.shot + ".mp4",
                                        "sha256:" + std::string(64, 'e'), 4000}});
    if (m.complete(fin.node, std::get<done_msg>(fin.body))) {
      ++done;
    }
  }
  return done;
}

struct throughput {
  double seconds = 0;
  std::uint64_t leases = 0;
  std::uint64_t heartbeats = 0;
};

throughput run_throughput(const bench_options& o) {
  manual_clock clock;
  memory_epoch_allocator epochs;
  lease_manager m(clock, epochs);
  register_all(m, o.nodes);
  std::mt19937 rng(o.seed);
  for (int i = 0; i < o.shots; ++i) {
    (void)m.submit(make_shot(i, o, rng));
  }
  (void)m.take_events();
  auto start = steady_clock::now();
  auto base = clock.now();
  std::size_t completed = 0;
  std::uint64_t heartbeats = 0;
  while (completed < static_cast<std::size_t>(o.shots)) {
    auto elapsed = steady_clock::now() - start;
    clock.set(base + elapsed);
    // Every node heartbeats once per second: catch up with real time.
    auto due = static_cast<std::uint64_t>(std::chrono::duration<double>(elapsed).count() * o.nodes);
    for (; heartbeats < due; ++heartbeats) {
      auto id = "node-" + std::to_string(heartbeats % static_cast<std::uint64_t>(o.nodes));
      auto hb = wire(frame{id, heartbeat_msg{heartbeats, 1, {}}});
      (void)m.heartbeat(hb.node, std::get<heartbeat_msg>(hb.body).leases);
    }
    m.tick();
    auto granted = m.schedule();
    completed += answer_offers(m);
    if (granted == 0 && m.active_leases() == 0 && m.queued_shots() > 0) {
      std::fprintf(stderr, "bench: %zu shots cannot be placed\n", m.queued_shots());
      break;
    }
  }
  throughput t;
  t.seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
  t.leases = m.probe().leases_granted;
  t.heartbeats = heartbeats;
  return t;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) {
    return 0;
  }
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

// Submit -> decoded offer frame, one shot at a time, on an idle farm.
std::vector<double> run_time_to_book(const bench_options& o, int samples) {
  manual_clock clock;
  memory_epoch_allocator epochs;
  lease_manager m(clock, epochs);
  register_all(m, o.nodes);
  (void)m.take_events();
  std::mt19937 rng(o.seed + 1);
  std::vector<double> ms;
  for (int i = 0; i < samples; ++i) {
    auto shot = make_shot(o.shots + i, o, rng);
    auto t0 = steady_clock::now();
    (void)m.submit(shot);
    m.tick();
    m.schedule();
    auto events = m.take_events();
    for (auto& e : events) {
      if (auto* off = std::get_if<offer_event>(&e)) {
        auto offer = wire(frame{off->node_id, off->offer});
        ms.push_back(std::chrono::duration<double, std::milli>(steady_clock::now() - t0).count());
        auto& body = std::get<lease_offer_msg>(offer.body);
        (void)m.accept(offer.node, {body.lease, body.shot});
        (void)m.complete(offer.node,
                         {body.lease, body.shot, "/x", "sha256:" + std::string(64, 'f'), 1});
      }
    }
    (void)m.take_events();
  }
  return ms;
}

struct detection {
  int killed = 0;
  int detected = 0;
  int false_losses = 0;
  double max_s = 0;
  double mean_s = 0;
};

// Simulated time: heartbeats every 1 s plus up to 1 s of jitter; 1% of the
// nodes (at least one) die at random moments; the manager ticks every 100 ms.
detection run_detection(const bench_options& o) {
  manual_clock clock;
  memory_epoch_allocator epochs;
  lease_manager m(clock, epochs);
  int n = o.nodes;
  register_all(m, n);
  (void)m.take_events();
  std::mt19937 rng(o.seed + 2);
  auto jitter = [&] { return std::chrono::milliseconds(1000 + rng() % 1001); };
  std::vector<farm_clock::time_point> next_hb(static_cast<std::size_t>(n));
  std::vector<farm_clock::time_point> death(static_cast<std::size_t>(n),
                                            farm_clock::time_point::max());
  auto t0 = clock.now();
  for (auto& t : next_hb) {
    t = t0 + jitter();
  }
  detection d;
  d.killed = std::max(1, n / 100);
  for (int k = 0; k < d.killed; ++k) {
    death[rng() % static_cast<unsigned>(n)] = t0 + std::chrono::milliseconds(10000 + rng() % 20000);
  }
  d.killed = static_cast<int>(std::count_if(
      death.begin(), death.end(), [](auto t) { return t != farm_clock::time_point::max(); }));
  double total = 0;
  for (int step = 0; step < 450; ++step) {  // 45 simulated seconds
    clock.advance(100ms);
    for (int i = 0; i < n; ++i) {
      auto u = static_cast<std::size_t>(i);
      if (next_hb[u] <= clock.now() && clock.now() < death[u]) {
        (void)m.heartbeat("node-" + std::to_string(i), {});
        next_hb[u] = clock.now() + jitter();
      }
    }
    m.tick();
    for (auto& e : m.take_events()) {
      auto* lost = std::get_if<node_lost_event>(&e);
      if (lost == nullptr) {
        continue;
      }
      auto u = static_cast<std::size_t>(std::stoi(lost->node_id.substr(5)));
      if (death[u] > clock.now()) {
        ++d.false_losses;
        continue;
      }
      double s = std::chrono::duration<double>(clock.now() - death[u]).count();
      ++d.detected;
      total += s;
      d.max_s = std::max(d.max_s, s);
    }
  }
  d.mean_s = d.detected > 0 ? total / d.detected : 0;
  return d;
}

}  // namespace

int run_scheduler_bench(const std::vector<std::string>& args) {
  bench_options o;
  if (!parse(args, o)) {
    return 2;
  }
  std::printf(
      "scheduler bench: %d nodes, %d shots, %d users; in-process transport, every frame "
      "through the real protocol encoder/decoder; 1 slot per node, renders complete "
      "instantly\n",
      o.nodes, o.shots, o.users);
  std::fflush(stdout);
  auto t = run_throughput(o);
  std::printf("throughput: %.0f leases/s (%llu leases in %.3f s, %llu heartbeats processed)\n",
              static_cast<double>(t.leases) / t.seconds, static_cast<unsigned long long>(t.leases),
              t.seconds, static_cast<unsigned long long>(t.heartbeats));
  std::fflush(stdout);
  auto book = run_time_to_book(o, 2000);
  std::printf("time-to-book (idle fitting node, %zu samples): p50 %.3f ms, p99 %.3f ms\n",
              book.size(), percentile(book, 0.5), percentile(book, 0.99));
  std::fflush(stdout);
  auto d = run_detection(o);
  std::printf(
      "lost-node detection (simulated clock, heartbeats 1 s + up to 1 s jitter, TTL 5 s): "
      "%d/%d killed nodes detected, mean %.2f s, max %.2f s after death; %d false "
      "losses\n",
      d.detected, d.killed, d.mean_s, d.max_s, d.false_losses);
  return d.false_losses == 0 && d.detected == d.killed ? 0 : 1;
}

}  // namespace reelfarm::farm
