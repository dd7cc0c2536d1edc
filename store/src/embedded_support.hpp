#pragma once

// Helpers shared by the embedded servers; private to the store library.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/embedded_options.hpp"

namespace reelfarm::embedded {

/// The port recorded by the last start of `name`, or 0.
int remembered_port(const std::filesystem::path& data_dir, const std::string& name);
/// Records the port of `name` for the next start.
void remember_port(const std::filesystem::path& data_dir, const std::string& name, int port);

/// The secret stored in `<data_dir>/secrets/<name>`, generated on first use.
result<std::string> stored_secret(const std::filesystem::path& data_dir, const std::string& name);

/// Reads a pid from the first line of `pid_file`; nullopt if absent or garbled.
std::optional<pid_t> read_pid_file(const std::filesystem::path& pid_file);

/// Stops the process named in `pid_file` if it is alive and its command line
/// contains `program` (a pid file can outlive its process and the pid be reused).
result<void> stop_by_pid_file(const std::filesystem::path& pid_file, const std::string& program,
                              int sig, std::chrono::milliseconds timeout);

/// How often a server start picks a new port after the one it chose was
/// taken in between (ports come from a probe: PostgreSQL and Redis cannot be
/// told to bind port 0 and report it back).
inline constexpr int port_attempts = 8;

/// The size of a log file now (0 when absent): where this start's lines begin.
std::uintmax_t log_size(const std::filesystem::path& file);

/// True when the lines a server wrote to `file` after `offset` say that its
/// port was taken ("Address already in use").
bool port_was_taken(const std::filesystem::path& file, std::uintmax_t offset);

/// The last lines of a log file, to explain why a server did not start.
std::string log_tail(const std::filesystem::path& file, size_t max_lines = 15);

}  // namespace reelfarm::embedded
