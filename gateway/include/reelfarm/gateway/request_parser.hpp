#pragma once

#include <cstddef>
#include <string_view>

#include "reelfarm/common/result.hpp"
#include "reelfarm/gateway/http_message.hpp"

namespace reelfarm::gateway {

/// Parses one complete HTTP/1.1 request from `bytes` with the server's
/// parser and limits: invalid_request for anything malformed, incomplete
/// or over a limit. The fuzz target drives this.
result<http_request> parse_request_bytes(std::string_view bytes, std::size_t header_limit = 8192,
                                         std::size_t body_limit = 1 << 20);

}  // namespace reelfarm::gateway
