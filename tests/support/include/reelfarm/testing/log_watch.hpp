#pragma once

// Reading back what a server chose: a program started with port 0 logs the
// port it bound, and the test waits for that line instead of probing a port.

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <regex>
#include <string>
#include <thread>

#include "reelfarm/common/filesystem.hpp"

namespace reelfarm::testing {

/// Waits until `file` holds a match of `pattern` and returns its first
/// capture group. Fails the test, showing the file, after `limit` or as soon
/// as `alive` (when given) says the writer has exited.
inline std::string wait_for_log_match(const std::filesystem::path& file, const std::string& pattern,
                                      std::chrono::milliseconds limit,
                                      const std::function<bool()>& alive = {}) {
  const std::regex re(pattern);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::string text;
  while (true) {
    auto read = read_file(file);
    text = read ? *read : "";
    std::smatch m;
    if (std::regex_search(text, m, re)) {
      return m.size() > 1 ? m[1].str() : m[0].str();
    }
    if (alive && !alive()) {
      FAIL("the program writing " << file << " exited before it logged /" << pattern
                                  << "/; its output:\n"
                                  << text);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      FAIL("no /" << pattern << "/ in " << file << " within " << limit.count() << " ms; it holds:\n"
                  << text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace reelfarm::testing
