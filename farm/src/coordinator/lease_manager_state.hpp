#pragma once

// The lease manager's private state: the node table with its capacity index,
// the shot table, the per-tier round-robin queues and the deadline heaps.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "reelfarm/farm/coordinator/farm_types.hpp"
#include "reelfarm/farm/coordinator/lease_manager.hpp"

namespace reelfarm::farm {

using time_point = farm_clock::time_point;

/// One node as the scheduler keeps it.
struct node_entry {
  node_spec spec;
  std::uint64_t max_gpu_mb = 0;
  std::vector<std::string> sorted_tags;
  std::unordered_set<std::string> references;
  std::unordered_set<std::uint64_t> leases;
  time_point last_seen{};
  int used = 0;
  /// Slots busy with renders the node still runs but no longer owns (leases
  /// of a previous coordinator, or expired while it was away): cancelled,
  /// they free up when its heartbeat stops listing them. Offering into them
  /// would only be rejected ("no free slot"), and a rejection is final for
  /// the shot on that node.
  int orphans = 0;
  int failures = 0;
  bool draining = false;
  bool drained_itself = false;  ///< the node drained itself on shutdown (lease_manager::drain)
  bool lost = false;
  bool removed = false;
  bool indexed = false;  ///< present in the capacity index
  bool in_heap = false;  ///< has an entry in the liveness heap

  int free_slots() const noexcept { return std::max(0, spec.slots - used - orphans); }
  bool can_take_work() const noexcept { return !removed && !lost && !draining && free_slots() > 0; }
};

enum class shot_state { queued, leased };

/// One shot not yet finished.
struct shot_entry {
  shot_request request;
  shot_state state = shot_state::queued;
  std::uint64_t lease = 0;
  int attempts = 0;
  bool cancel_requested = false;
  std::vector<std::uint32_t> failed_nodes;    ///< avoided while others fit
  std::vector<std::uint32_t> rejected_nodes;  ///< never offered again
  /// Nodes that turned it down for a passing reason ("no free slot": the
  /// node had not freed its last slot yet); one is excluded only after
  /// lease_manager.cpp's transient_reject_limit of these.
  std::vector<std::uint32_t> transient_rejections;
};

enum class lease_state { offered, running, cancelling };

/// One active lease.
struct lease_entry {
  std::uint64_t epoch = 0;
  std::string shot_id;
  std::uint32_t node = 0;
  lease_state state = lease_state::offered;
  time_point expires{};
  time_point last_cancel_sent{};
};

template <class Key>
using deadline_heap = std::priority_queue<std::pair<time_point, Key>,
                                          std::vector<std::pair<time_point, Key>>, std::greater<>>;

/// Users with queued shots of one priority tier, served round-robin.
struct tier_queue {
  std::deque<std::string> ring;
  std::unordered_map<std::string, std::deque<std::string>> shots_by_user;
};

struct lease_manager::impl {
  std::vector<node_entry> nodes;
  std::unordered_map<std::string, std::uint32_t> node_ids;
  /// backend -> (max GPU MB, node) of nodes that can take work now.
  std::unordered_map<std::string, std::set<std::pair<std::uint64_t, std::uint32_t>>> capacity;
  std::unordered_map<std::string, std::vector<std::uint32_t>> reference_holders;
  std::size_t free_slots = 0;

  std::unordered_map<std::string, shot_entry> shots;
  std::unordered_map<std::uint64_t, lease_entry> leases;
  std::set<std::uint64_t> cancelling;
  tier_queue tiers[2];
  std::size_t queued = 0;
  /// job -> node -> failures of that node on that job.
  std::unordered_map<std::string, std::unordered_map<std::uint32_t, int>> job_failures;

  deadline_heap<std::uint32_t> node_deadlines;
  deadline_heap<std::uint64_t> lease_deadlines;

  std::uint64_t next_epoch = 0;
  std::uint64_t epoch_block_end = 0;  ///< one past the last reserved epoch
  std::uint64_t first_epoch_seen = 0;
  std::vector<farm_event> events;
};

}  // namespace reelfarm::farm
