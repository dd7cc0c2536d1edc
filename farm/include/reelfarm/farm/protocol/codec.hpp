#pragma once

#include <string>
#include <string_view>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/protocol/messages.hpp"

namespace reelfarm::farm {

/// Serializes a frame to its JSON text. Never fails: the values come from us.
std::string encode_frame(const frame& f);

/// Parses and validates untrusted bytes. Checks, in order: size, nesting
/// depth, JSON syntax, the envelope (object, "v", "type", "node"), the
/// version, then every field of the type (presence, JSON type, length,
/// range). Unknown extra fields are ignored so that later minor versions can
/// add fields. Errors carry farm_errc codes; `type_hint` (if given) receives
/// the frame's "type" when it could be read, so an error reply can name it.
/// `max_bytes` is raised only by trusted readers of large answers (ctl).
result<frame> decode_frame(std::string_view bytes, std::string* type_hint = nullptr,
                           std::size_t max_bytes = max_frame_bytes);

/// True when `id` is a valid node id: 1-64 of [A-Za-z0-9._-].
bool valid_node_id(std::string_view id) noexcept;

}  // namespace reelfarm::farm
