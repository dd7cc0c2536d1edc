#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "reelfarm/farm/protocol/messages.hpp"

namespace reelfarm::farm {

/// What a node offers the farm (from its register frame).
struct node_spec {
  std::string id;
  std::string hostname;
  std::vector<gpu_info> gpus;
  int slots = 1;
  std::vector<std::string> backends;
  std::vector<std::string> tags;
  std::vector<std::string> references;
};

/// Queue priority: Pro and Enterprise plans are served first.
enum class plan_priority { standard = 0, priority = 1 };

/// One shot waiting for a node.
struct shot_request {
  std::string shot_id;
  std::string job_id;   ///< the project's render job; blocklists are per job
  std::string user_id;  ///< fairness is across users
  plan_priority priority = plan_priority::standard;
  std::string backend;
  std::uint64_t gpu_memory_mb = 0;      ///< 0: runs on CPU-only nodes too
  std::vector<std::string> tags;        ///< the node must carry all of them
  std::vector<std::string> references;  ///< consistency references; holders preferred
  std::string spec = "{}";              ///< JSON object handed to the backend
};

/// How a shot ended.
enum class shot_status { done, failed, cancelled };

/// The final word on a shot, reported exactly once.
struct shot_outcome {
  std::string shot_id;
  std::string job_id;
  shot_status status = shot_status::done;
  std::uint64_t lease = 0;  ///< the epoch whose result counted
  std::string node_id;
  std::string artifact;
  std::string checksum;
  std::int64_t duration_ms = 0;
  std::string reason;  ///< why it failed or was cancelled
};

/// The lease manager asks the transport to send this offer.
struct offer_event {
  std::string node_id;
  lease_offer_msg offer;
};

/// The lease manager asks the transport to send a cancel (first or repeated).
struct cancel_event {
  std::string node_id;
  cancel_msg cancel;
};

/// The transport should tell the node to drain (or undrain).
struct drain_event {
  std::string node_id;
  bool drain = true;
};

/// A lease ended (for persistence and metrics).
struct lease_ended_event {
  std::uint64_t lease = 0;
  std::string shot_id;
  std::string node_id;
  std::string state;  ///< done, failed, expired, rejected, cancelled
  std::string reason;
};

/// A node was declared lost (no heartbeat within the TTL).
struct node_lost_event {
  std::string node_id;
  std::chrono::milliseconds silent_for{0};
};

/// A node registered, changed state or was removed (for persistence).
struct node_changed_event {
  std::string node_id;
};

/// Everything the lease manager wants the outside world to do or know.
using farm_event = std::variant<offer_event, cancel_event, drain_event, lease_ended_event,
                                node_lost_event, node_changed_event, shot_outcome>;

/// What an operator sees of one node.
struct node_view {
  std::string id;
  std::string hostname;
  std::string state;  ///< alive, draining, drained, lost
  int slots = 0;
  int used = 0;
  std::vector<gpu_info> gpus;
  std::vector<std::string> backends;
  std::vector<std::string> tags;
  std::vector<std::uint64_t> leases;
  std::int64_t last_heartbeat_ms_ago = 0;
  int failures = 0;
};

/// Timing of the lease manager.
struct lease_timing {
  std::chrono::milliseconds heartbeat{1000};  ///< how often nodes heartbeat
  std::chrono::milliseconds ttl{5000};        ///< silence after which a node is lost
  std::chrono::milliseconds cancel_resend{1000};
};

}  // namespace reelfarm::farm
