#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

/// The coordinator <-> node wire protocol, version 1 (docs/protocol.md).
/// Every frame is one JSON object {"v":1,"type":"...","node":"...", ...}
/// carried as a single ZeroMQ message part between a node's DEALER and the
/// coordinator's ROUTER. The lease id is the lease's fencing epoch: epochs
/// strictly increase across the farm and across coordinator restarts.
namespace reelfarm::farm {

/// The protocol version this build speaks.
inline constexpr int protocol_version = 1;
/// Frames larger than this are refused before parsing.
inline constexpr std::size_t max_frame_bytes = 64 * 1024;
/// Deeper JSON nesting is refused before parsing (no recursion bombs).
inline constexpr int max_json_depth = 8;

/// One GPU of a node, as nvidia-smi reports it.
struct gpu_info {
  int index = 0;
  std::uint64_t memory_mb = 0;
  int utilization = 0;  ///< percent
};

/// A lease a node says it holds.
struct held_lease {
  std::uint64_t lease = 0;  ///< the fencing epoch
  std::string shot;
};

/// node -> coordinator: join (or re-join) the farm.
struct register_msg {
  std::string hostname;
  std::vector<gpu_info> gpus;
  int slots = 1;
  std::vector<std::string> backends;
  std::vector<std::string> tags;
  std::vector<std::string> references;  ///< consistency references already on disk
  std::vector<held_lease> leases;       ///< leases still running from before a reconnect
  std::string agent;                    ///< agent version, for operators
};

/// node -> coordinator, over a connection with a join token's bootstrap key:
/// enrol the node's own key for the node id in the frame's `node` field.
struct enroll_msg {
  std::string public_key;  ///< Z85, 40 characters
};

/// coordinator -> node: the key is enrolled; reconnect with it and register.
struct enrolled_msg {};

/// coordinator -> node: registration accepted; the timing the node must keep.
struct registered_msg {
  std::int64_t heartbeat_ms = 1000;
  std::int64_t ttl_ms = 5000;
};

/// coordinator -> node: registration refused (e.g. protocol version).
struct refused_msg {
  std::string reason;
  int supported_version = protocol_version;
};

/// Both ways: node -> coordinator renews its leases; coordinator -> node answers.
struct heartbeat_msg {
  std::uint64_t seq = 0;
  int free_slots = 0;
  std::vector<held_lease> leases;
};

/// coordinator -> node: run this shot under this lease.
struct lease_offer_msg {
  std::uint64_t lease = 0;
  std::string shot;
  std::string job;
  std::string backend;
  std::uint64_t gpu_memory_mb = 0;
  std::int64_t ttl_ms = 5000;
  std::string spec;  ///< a JSON object (serialized) the backend interprets
};

/// node -> coordinator: the offer is taken; the slot is busy.
struct lease_accept_msg {
  std::uint64_t lease = 0;
  std::string shot;
};

/// node -> coordinator: the offer is declined (no free slot, backend missing...).
struct lease_reject_msg {
  std::uint64_t lease = 0;
  std::string shot;
  std::string reason;
};

/// node -> coordinator: how far the render is.
struct progress_msg {
  std::uint64_t lease = 0;
  std::string shot;
  int percent = 0;
  std::string step;
};

/// node -> coordinator: the shot rendered.
struct done_msg {
  std::uint64_t lease = 0;
  std::string shot;
  std::string artifact;  ///< where the segment lies (path or URL)
  std::string checksum;  ///< "sha256:<64 hex>"
  std::int64_t duration_ms = 0;
};

/// node -> coordinator: the render failed.
struct failed_msg {
  std::uint64_t lease = 0;
  std::string shot;
  std::string reason;
  bool retryable = true;
};

/// coordinator -> node: stop this lease's render.
struct cancel_msg {
  std::uint64_t lease = 0;
  std::string shot;
};

/// node -> coordinator: the render is stopped; the slot is free.
struct cancel_confirmed_msg {
  std::uint64_t lease = 0;
  std::string shot;
};

/// Both ways: coordinator -> node "finish what you run, take nothing new"
/// (drain=false: undrain); node -> coordinator "I am shutting down, drain me".
struct drain_msg {
  bool drain = true;
  std::string reason;
};

/// Both ways: the frame `about` could not be accepted.
struct error_msg {
  std::string code;     ///< a farm_errc name, e.g. "stale_epoch"
  std::string message;  ///< for people
  std::string about;    ///< the offending frame's type, when known
  std::uint64_t lease = 0;
};

/// ctl -> coordinator: an operator command (list, drain, undrain, remove).
struct admin_msg {
  std::string command;
  std::string target;  ///< a node id; empty for list
};

/// coordinator -> ctl: the answer; `body` is a JSON value (serialized).
struct admin_reply_msg {
  bool ok = true;
  std::string message;
  std::string body = "null";
};

/// Any frame body.
using message = std::variant<register_msg, registered_msg, refused_msg, heartbeat_msg,
                             lease_offer_msg, lease_accept_msg, lease_reject_msg, progress_msg,
                             done_msg, failed_msg, cancel_msg, cancel_confirmed_msg, drain_msg,
                             error_msg, admin_msg, admin_reply_msg, enroll_msg, enrolled_msg>;

/// A whole frame: who speaks (the node id; the coordinator echoes the node's id)
/// and what.
struct frame {
  std::string node;
  message body;
};

/// The wire name of the body's type, e.g. "lease_offer".
const char* type_name(const message& body) noexcept;

}  // namespace reelfarm::farm
