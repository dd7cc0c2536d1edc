#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of the farm module: the wire protocol, the lease manager, nodes.
enum class farm_errc {
  frame_too_large = 1,  ///< a frame exceeds max_frame_bytes
  malformed_frame,      ///< not a JSON object, too deeply nested, or multipart misuse
  unsupported_version,  ///< the frame's protocol version is not ours
  unknown_type,         ///< the frame's "type" is not a known message
  invalid_field,        ///< a field is missing, of the wrong type, too long or out of range
  unknown_node,         ///< the node is not registered (or was removed or lost)
  unknown_lease,        ///< no such lease, or it is not held by this node
  stale_epoch,          ///< a result for a lease whose fencing epoch is no longer current
  out_of_order,         ///< a frame that does not fit the lease's state (e.g. done before accept)
  duplicate_shot,       ///< a shot with this id is already known
  unknown_shot,         ///< no such shot
  invalid_argument,     ///< a value given by the caller is not acceptable
  transport,            ///< a ZeroMQ socket operation failed
  persistence,          ///< a PostgreSQL statement of the farm failed
  backend,              ///< a render backend could not prepare or run a lease
  timeout,              ///< no answer in the time allowed
  not_enrolled,         ///< the peer's CURVE key is not enrolled (or was revoked)
  invalid_token,        ///< a join token that is malformed, unknown or expired
  forbidden,            ///< the peer's key may not send this frame (e.g. admin from a node)
};

std::string_view category_of(farm_errc) noexcept;
std::string_view to_string(farm_errc code) noexcept;

}  // namespace reelfarm
