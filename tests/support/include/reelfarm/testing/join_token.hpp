#pragma once

// A join token the way an operator gets one: `reelfarm ctl nodes token`
// against a running coordinator, with the operator key it keeps in its data
// folder. For tests that start `reelfarm serve` or `coordinator` processes.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"

namespace reelfarm::testing {

/// Runs `BINARY --data-dir DATA ctl nodes token --coordinator ENDPOINT` and
/// returns the token it printed; fails the test with ctl's output otherwise.
inline std::string join_token_from_ctl(const std::string& binary, const std::filesystem::path& data,
                                       const std::string& endpoint) {
  static int calls = 0;
  auto output = data.parent_path() / ("ctl-token-" + std::to_string(++calls) + ".out");
  process_options p;
  p.argv = {binary,  "--data-dir",    data.string(), "ctl",   "nodes",
            "token", "--coordinator", endpoint,      "--ttl", "1h"};
  p.output_file = output.string();
  auto status = run_program(p, std::chrono::seconds(30));
  auto text = read_file(output);
  INFO("ctl nodes token: " << (text ? *text : std::string("(no output)")));
  REQUIRE(status);
  REQUIRE(*status == 0);
  REQUIRE(text);
  static const std::regex token("rfj1-[0-9a-f]{64}-[0-9a-f]{64}");
  std::smatch found;
  REQUIRE(std::regex_search(*text, found, token));
  return found[0];
}

}  // namespace reelfarm::testing
