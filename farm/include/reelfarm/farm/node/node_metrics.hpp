#pragma once

// The node agent's Prometheus metrics (issue #9), kept apart from the agent:
// node_agent.cpp calls the hooks and knows nothing of Prometheus.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace reelfarm::farm {

/// One GPU as `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total
/// --format=csv,noheader,nounits` reports it.
struct gpu_sample {
  int index = 0;
  double utilization_ratio = 0;  ///< 0..1
  std::uint64_t memory_used_bytes = 0;
  std::uint64_t memory_total_bytes = 0;
};

/// The query the GPU sampler runs (exactly these four columns, in this order).
inline constexpr const char* gpu_query =
    "--query-gpu=index,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits";

/// Parses the sampler's CSV strictly: a line counts only when it has exactly
/// four numeric fields (index, percent 0-100, MiB used, MiB total, used <=
/// total); anything else ("[N/A]", "[Not Supported]", a warning, a short
/// line) is skipped and counted in `rejected` when given.
std::vector<gpu_sample> parse_gpu_samples(std::string_view csv, int* rejected = nullptr);

/// Exported by each node (labels: node = the node id):
///   reelfarm_node_shots_total{node,result}             counter  done|failed|cancelled
///   reelfarm_node_render_duration_seconds{node,backend} histogram
///   reelfarm_node_slots{node,state}                    gauge    used|free
///   reelfarm_node_connected{node}                      gauge    1 while registered
///   reelfarm_node_gpus{node}                           gauge    GPUs in the last sample
///   reelfarm_node_gpu_utilization_ratio{node,gpu}      gauge    0..1
///   reelfarm_node_gpu_memory_used_bytes{node,gpu}      gauge
///   reelfarm_node_gpu_memory_total_bytes{node,gpu}     gauge
///   reelfarm_node_gpu_query_failures_total{node}       counter  nvidia-smi failed or unparsable
class node_metrics {
 public:
  /// `sample_gpus`: run the GPU sampler every `every` when nvidia-smi is on PATH.
  node_metrics(std::string node_id, int slots, bool sample_gpus,
               std::chrono::milliseconds every = std::chrono::seconds(5));
  ~node_metrics();
  node_metrics(const node_metrics&) = delete;
  node_metrics& operator=(const node_metrics&) = delete;

  /// A lease ended on this node: result is done, failed or cancelled.
  void lease_finished(const std::string& backend, std::string_view result, double seconds);
  /// Slots in use now (of the node's total).
  void set_slots_used(int used);
  /// Registered with the coordinator or not.
  void set_connected(bool connected);
  /// One GPU sample applied now (what the sampler thread does; public for tests).
  void apply_gpu_samples(const std::vector<gpu_sample>& gpus);

 private:
  void sample_loop(std::chrono::milliseconds every);

  std::string node_;
  int slots_ = 1;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<int> gpus_seen_;
  std::thread sampler_;
};

}  // namespace reelfarm::farm
