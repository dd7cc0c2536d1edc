#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "reelfarm/common/process.hpp"
#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// Creates `dir` and its parents if missing, then sets its mode and, when
/// `owner` is given, its owner. Errors name the directory and the reason.
result<void> ensure_directory(const std::filesystem::path& dir, mode_t mode,
                              const std::optional<account>& owner = std::nullopt);

/// Writes `content` to `file` atomically (temporary file, fsync, rename) with
/// `mode`, so a crash leaves either the old or the new file, never half of one.
result<void> write_file_atomically(const std::filesystem::path& file, std::string_view content,
                                   mode_t mode, const std::optional<account>& owner = std::nullopt);

/// Reads a whole file.
result<std::string> read_file(const std::filesystem::path& file);

/// Checks that `who` can traverse every directory above `dir` and explains
/// which one stops it otherwise.
result<void> check_reachable(const std::filesystem::path& dir, const account& who);

/// `count` random bytes from the kernel as lowercase hex.
result<std::string> random_hex(size_t count);

/// An exclusive advisory lock on a file (flock), held until destruction.
class file_lock {
 public:
  /// Takes the lock without waiting; fails when another process holds it.
  static result<file_lock> acquire(const std::filesystem::path& file);
  file_lock(file_lock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  file_lock& operator=(file_lock&& other) noexcept;
  file_lock(const file_lock&) = delete;
  file_lock& operator=(const file_lock&) = delete;
  ~file_lock();

 private:
  explicit file_lock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace reelfarm
