#include "reelfarm/farm/node/node_metrics.hpp"

#include <unistd.h>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "reelfarm/common/log.hpp"
#include "reelfarm/common/metrics.hpp"

namespace reelfarm::farm {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

struct families {
  Family<Counter>& shots;
  Family<Histogram>& render;
  Family<Gauge>& slots;
  Family<Gauge>& connected;
  Family<Gauge>& gpus;
  Family<Gauge>& utilization;
  Family<Gauge>& memory_used;
  Family<Gauge>& memory_total;
  Family<Counter>& gpu_failures;
};

families& get() {
  auto& r = metrics::registry();
  auto gauge = [&](const char* name, const char* help) -> Family<Gauge>& {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r);
  };
  static families f{
      prometheus::BuildCounter()
          .Name("reelfarm_node_shots_total")
          .Help("Leases this node finished, by result")
          .Register(r),
      prometheus::BuildHistogram()
          .Name("reelfarm_node_render_duration_seconds")
          .Help("Wall time of a backend render on this node")
          .Register(r),
      gauge("reelfarm_node_slots", "Render slots of this node, used or free"),
      gauge("reelfarm_node_connected", "1 while the node is registered with a coordinator"),
      gauge("reelfarm_node_gpus", "GPUs in the node's last nvidia-smi sample"),
      gauge("reelfarm_node_gpu_utilization_ratio", "GPU utilisation, 0 to 1 (nvidia-smi)"),
      gauge("reelfarm_node_gpu_memory_used_bytes", "GPU memory in use (nvidia-smi)"),
      gauge("reelfarm_node_gpu_memory_total_bytes", "GPU memory installed (nvidia-smi)"),
      prometheus::BuildCounter()
          .Name("reelfarm_node_gpu_query_failures_total")
          .Help("nvidia-smi runs that failed or printed nothing usable")
          .Register(r),
  };
  return f;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Whole field or nothing: "12abc", "", "[N/A]" are all refused.
template <class T>
std::optional<T> number(std::string_view field) {
  field = trim(field);
  T value{};
  auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc{} || end != field.data() + field.size() || field.empty()) {
    return std::nullopt;
  }
  return value;
}

bool on_path(const char* program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr)
    return false;
  std::string_view rest(path);
  while (!rest.empty()) {
    auto colon = rest.find(':');
    auto dir = rest.substr(0, colon);
    auto candidate = std::filesystem::path(dir.empty() ? "." : std::string(dir)) / program;
    if (::access(candidate.c_str(), X_OK) == 0)
      return true;
    if (colon == std::string_view::npos)
      break;
    rest.remove_prefix(colon + 1);
  }
  return false;
}

std::optional<std::string> run_query() {
  std::string command = std::string("nvidia-smi ") + gpu_query + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr)
    return std::nullopt;
  std::string out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0 && out.size() < 65536) {
    out.append(buf, n);
  }
  int status = ::pclose(pipe);
  if (status != 0)
    return std::nullopt;
  return out;
}

constexpr std::uint64_t mib = 1024ull * 1024ull;

}  // namespace

std::vector<gpu_sample> parse_gpu_samples(std::string_view csv, int* rejected) {
  std::vector<gpu_sample> out;
  int bad = 0;
  while (!csv.empty() && out.size() < 64) {
    auto eol = csv.find('\n');
    auto line = trim(csv.substr(0, eol));
    csv.remove_prefix(eol == std::string_view::npos ? csv.size() : eol + 1);
    if (line.empty())
      continue;
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= line.size(); ++i) {
      if (i == line.size() || line[i] == ',') {
        fields.push_back(line.substr(start, i - start));
        start = i + 1;
      }
    }
    auto index = fields.size() == 4 ? number<int>(fields[0]) : std::nullopt;
    auto util = fields.size() == 4 ? number<double>(fields[1]) : std::nullopt;
    auto used = fields.size() == 4 ? number<std::uint64_t>(fields[2]) : std::nullopt;
    auto total = fields.size() == 4 ? number<std::uint64_t>(fields[3]) : std::nullopt;
    if (!index || !util || !used || !total || *index < 0 || *util < 0 || *util > 100 ||
        *used > *total) {
      ++bad;
      continue;
    }
    out.push_back({*index, *util / 100.0, *used * mib, *total * mib});
  }
  if (rejected != nullptr)
    *rejected = bad;
  return out;
}

node_metrics::node_metrics(std::string node_id, int slots, bool sample_gpus,
                           std::chrono::milliseconds every)
    : node_(std::move(node_id)), slots_(std::max(1, slots)) {
  auto& f = get();
  for (const char* r : {"done", "failed", "cancelled"}) {
    f.shots.Add({{"node", node_}, {"result", r}});
  }
  set_slots_used(0);
  set_connected(false);
  f.gpus.Add({{"node", node_}}).Set(0);
  f.gpu_failures.Add({{"node", node_}});
  if (sample_gpus && on_path("nvidia-smi")) {
    sampler_ = std::thread([this, every] { sample_loop(every); });
  } else if (sample_gpus) {
    log::debug("node", "nvidia-smi not found: no GPU metrics");
  }
}

node_metrics::~node_metrics() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (sampler_.joinable())
    sampler_.join();
}

void node_metrics::lease_finished(const std::string& backend, std::string_view result,
                                  double seconds) {
  auto& f = get();
  f.shots.Add({{"node", node_}, {"result", std::string(result)}}).Increment();
  if (result == "done") {
    f.render.Add({{"node", node_}, {"backend", backend}}, metrics::duration_buckets())
        .Observe(std::max(0.0, seconds));
  }
}

void node_metrics::set_slots_used(int used) {
  auto& f = get();
  used = std::clamp(used, 0, slots_);
  f.slots.Add({{"node", node_}, {"state", "used"}}).Set(used);
  f.slots.Add({{"node", node_}, {"state", "free"}}).Set(slots_ - used);
}

void node_metrics::set_connected(bool connected) {
  get().connected.Add({{"node", node_}}).Set(connected ? 1 : 0);
}

void node_metrics::apply_gpu_samples(const std::vector<gpu_sample>& gpus) {
  auto& f = get();
  std::lock_guard lock(mutex_);
  std::vector<int> seen;
  for (const auto& g : gpus) {
    prometheus::Labels l{{"node", node_}, {"gpu", std::to_string(g.index)}};
    f.utilization.Add(l).Set(g.utilization_ratio);
    f.memory_used.Add(l).Set(static_cast<double>(g.memory_used_bytes));
    f.memory_total.Add(l).Set(static_cast<double>(g.memory_total_bytes));
    seen.push_back(g.index);
  }
  // A GPU that vanished (fell off the bus) must not keep its last values.
  for (int old : gpus_seen_) {
    if (std::find(seen.begin(), seen.end(), old) != seen.end())
      continue;
    prometheus::Labels l{{"node", node_}, {"gpu", std::to_string(old)}};
    f.utilization.Remove(&f.utilization.Add(l));
    f.memory_used.Remove(&f.memory_used.Add(l));
    f.memory_total.Remove(&f.memory_total.Add(l));
  }
  gpus_seen_ = std::move(seen);
  f.gpus.Add({{"node", node_}}).Set(static_cast<double>(gpus.size()));
}

void node_metrics::sample_loop(std::chrono::milliseconds every) {
  for (;;) {
    auto text = run_query();
    int rejected = 0;
    auto gpus = text ? parse_gpu_samples(*text, &rejected) : std::vector<gpu_sample>{};
    if (!text || rejected > 0 || gpus.empty()) {
      get().gpu_failures.Add({{"node", node_}}).Increment();
    }
    if (text) {
      apply_gpu_samples(gpus);
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, every, [this] { return stopping_; })) {
      return;
    }
  }
}

}  // namespace reelfarm::farm
