#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/coordinator/epoch_allocator.hpp"
#include "reelfarm/farm/coordinator/farm_clock.hpp"
#include "reelfarm/farm/coordinator/farm_probe.hpp"
#include "reelfarm/farm/coordinator/farm_types.hpp"

namespace reelfarm::farm {

struct shot_entry;

/// The farm's scheduler: which shot runs on which node under which lease.
/// Plain, single-threaded and deterministic: time comes from an injected
/// clock and every effect on the outside (frames to send, outcomes, rows to
/// persist) is queued as a `farm_event` that the owner takes with
/// `take_events()`. Node frames come in through the methods named after them.
///
/// Rules (docs/farm.md): shots are served by plan priority, then round-robin
/// across users, then FIFO; a node fits when it is alive, not draining, has a
/// free slot, the backend, enough GPU memory and every tag; holders of the
/// shot's consistency references are preferred, then the smallest GPU that
/// fits. Every lease has a fresh fencing epoch; results must carry the current
/// one. Nodes silent for the TTL are lost and their shots re-queued.
class lease_manager {
 public:
  /// A node failing the same job this many times is blocklisted for it.
  static constexpr int job_blocklist_after = 3;
  /// A shot that failed on this many different nodes fails.
  static constexpr int shot_fails_after_nodes = 3;
  /// A shot that lost or failed this many leases in all fails.
  static constexpr int shot_max_attempts = 6;

  lease_manager(const farm_clock& clock, epoch_allocator& epochs, lease_timing timing = {});
  ~lease_manager();
  lease_manager(const lease_manager&) = delete;
  lease_manager& operator=(const lease_manager&) = delete;

  /// A node joins or re-joins; `held` are leases it still runs. Known leases
  /// it still holds are kept; its other leases expire; leases it holds that we
  /// do not know are cancelled on it.
  result<void> register_node(const node_spec& spec, const std::vector<held_lease>& held);
  /// Renews the node and the leases it lists; revives a lost node.
  result<void> heartbeat(std::string_view node_id, const std::vector<held_lease>& held);

  /// Queues a shot.
  result<void> submit(shot_request shot);
  /// Cancels a shot: dropped if queued, else a cancel goes to its node and the
  /// slot stays busy until the node confirms.
  result<void> cancel_shot(std::string_view shot_id);

  result<void> accept(std::string_view node_id, const lease_accept_msg& m);
  result<void> reject(std::string_view node_id, const lease_reject_msg& m);
  result<void> progress(std::string_view node_id, const progress_msg& m);
  result<void> complete(std::string_view node_id, const done_msg& m);
  result<void> fail(std::string_view node_id, const failed_msg& m);
  /// A result of the node that its owner refused after the lease ended
  /// (wrong path, checksum mismatch): counted like a failed render, so the
  /// node's failures show it and the job's blocklist keeps the shot away
  /// from it after `job_blocklist_after`.
  result<void> count_refused_result(std::string_view node_id, const std::string& job_id);
  result<void> cancel_confirmed(std::string_view node_id, const cancel_confirmed_msg& m);

  /// Who drains a node: an operator's drain lasts until an operator undrains
  /// it, even across the node's restarts; a node that drains itself because
  /// it is shutting down takes work again when it registers again.
  enum class drained_by { operator_request, node_itself };

  /// Drain (true) or undrain (false) a node.
  result<void> drain(std::string_view node_id, bool drain,
                     drained_by who = drained_by::operator_request);
  /// Forgets a node; its leases expire and their shots are re-queued.
  result<void> remove_node(std::string_view node_id);

  /// Applies the timing rules: lost nodes, expired leases, cancel resends.
  void tick();
  /// Grants leases to queued shots that fit idle nodes; returns how many.
  std::size_t schedule(std::size_t max_grants = SIZE_MAX);
  /// The events produced since the last call, in order.
  std::vector<farm_event> take_events();

  /// What operators see of every node (or one).
  std::vector<node_view> nodes() const;
  std::optional<node_view> node(std::string_view node_id) const;
  std::size_t queued_shots() const noexcept;
  std::size_t active_leases() const noexcept;
  const farm_probe& probe() const noexcept { return probe_; }
  /// Shots and jobs in the scheduler now, for metrics (coordinator_metrics.cpp).
  struct load_view {
    std::size_t queued[2] = {0, 0};  ///< by plan_priority
    std::size_t leased = 0;          ///< shots with a current lease
    std::size_t active_jobs = 0;     ///< jobs with at least one unfinished shot
  };
  /// Walks every unfinished shot: O(shots); the exporter calls it about once a second.
  load_view load() const;
  /// Counts a frame the transport refused before it reached the manager.
  void count_protocol_error() noexcept { ++probe_.protocol_errors; }
  const lease_timing& timing() const noexcept { return timing_; }

  /// The private state (lease_manager_state.hpp).
  struct impl;

 private:
  bool grant(shot_entry& shot, std::uint32_t node_idx);
  bool serve_user(std::deque<std::string>& queue);
  std::size_t schedule_tier(int tier_index, std::size_t max_grants);
  std::unique_ptr<impl> impl_;
  const farm_clock& clock_;
  epoch_allocator& epochs_;
  lease_timing timing_;
  farm_probe probe_;
};

}  // namespace reelfarm::farm
