#pragma once

// The coordinator's Prometheus metrics (issue #9), kept apart from the loop:
// coordinator.cpp calls the hooks below and knows nothing of Prometheus.
#include <chrono>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "reelfarm/farm/coordinator/farm_probe.hpp"
#include "reelfarm/farm/coordinator/farm_types.hpp"
#include "reelfarm/farm/coordinator/lease_manager.hpp"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace reelfarm::farm {

/// Exported (all in metrics::registry()):
///   reelfarm_farm_leases_granted_total                      counter
///   reelfarm_farm_leases_ended_total{state}                 counter
///   done|failed|expired|rejected|cancelled reelfarm_farm_stale_results_total, _nodes_lost_total,
///   _blocklists_total, _protocol_errors_total reelfarm_farm_shots_finished_total{status} counter
///   done|failed|cancelled reelfarm_farm_shots{state}                              gauge
///   queued|leased reelfarm_farm_queue_depth{priority}                     gauge standard|priority
///   reelfarm_farm_jobs_active                               gauge
///   reelfarm_farm_nodes{state}                              gauge    alive|draining|drained|lost
///   reelfarm_farm_slots{state}                              gauge    used|free (alive nodes)
///   reelfarm_farm_node_slots{node,state}                    gauge    used|free
///   reelfarm_farm_node_heartbeat_age_seconds{node}          gauge
///   reelfarm_farm_node_failures{node}                       gauge
///   reelfarm_farm_node_up{node}                             gauge    1 alive/draining/drained, 0
///   lost reelfarm_farm_time_to_book_seconds                      histogram submit -> first lease
///   granted reelfarm_farm_shot_render_seconds                       histogram done shots, as the
///   node reports
class coordinator_metrics {
 public:
  coordinator_metrics();

  /// Loop thread: the manager accepted a shot that `coordinator::submit`
  /// received at `at`; its time to book runs until its first offer.
  void shot_queued(const std::string& shot_id, std::chrono::steady_clock::time_point at);
  /// Loop thread: one event out of the lease manager.
  void on_event(const farm_event& e);
  /// Loop thread, every turn: refreshes gauges and counters at most once per
  /// `interval` (a scrape every second at most needs no more).
  void refresh(const lease_manager& m,
               std::chrono::milliseconds interval = std::chrono::milliseconds(500));

 private:
  void copy_counters(const farm_probe& p);

  std::chrono::steady_clock::time_point last_refresh_{};
  farm_probe last_{};
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> waiting_;
  std::unordered_set<std::string> nodes_seen_;
};

}  // namespace reelfarm::farm
