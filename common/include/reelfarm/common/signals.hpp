#pragma once

#include <chrono>

/// Orderly shutdown on SIGINT and SIGTERM: the handlers only record the
/// request; long-running code polls `stop_requested` or blocks in
/// `wait_for_stop`, then stops what it started.
namespace reelfarm::signals {

/// Installs the SIGINT/SIGTERM handlers and ignores SIGPIPE. Idempotent.
void install_stop_handlers();
/// True once SIGINT or SIGTERM arrived (or `request_stop` was called).
bool stop_requested() noexcept;
/// Asks for a stop as if a signal had arrived.
void request_stop() noexcept;
/// Blocks until a stop is requested or `timeout` passes; true when stopping.
bool wait_for_stop(std::chrono::milliseconds timeout);
/// The number of the signal that asked for the stop, or 0.
int stop_signal() noexcept;

}  // namespace reelfarm::signals
