#pragma once

#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// A TCP port on 127.0.0.1 that was free a moment ago: for servers that
/// cannot bind port 0 and report the port back (PostgreSQL, Redis). Another
/// process may take it before the server binds it, so a caller must detect
/// that and try again (store/src/embedded_*.cpp do). Anything that can bind
/// port 0 itself must do that instead.
result<int> free_loopback_port();

}  // namespace reelfarm
