#pragma once

#include <filesystem>

namespace reelfarm::testing {

/// A fresh folder under /tmp, removed with everything in it on destruction.
/// Mode 0755, so that servers running under another account can reach it.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace reelfarm::testing
