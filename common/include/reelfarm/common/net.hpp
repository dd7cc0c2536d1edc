#pragma once

#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// A free TCP port on 127.0.0.1 for a server of ours to bind, preferring
/// `preferred` when it is free (0: any). Probed with SO_REUSEADDR, as servers
/// bind, so a port whose last connections linger in TIME_WAIT counts as free.
/// Another process may still take the port before our server binds it.
result<int> free_loopback_port(int preferred = 0);

}  // namespace reelfarm
