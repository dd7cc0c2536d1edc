#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/testing/temp_dir.hpp"

namespace reelfarm::testing {

/// The outcome of one run of the reelfarm binary.
struct run_outcome {
  int status = -1;
  std::string output;  ///< stdout and stderr together
};

/// Runs `reelfarm ARGS...` to completion and collects its output.
inline run_outcome run_reelfarm(const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
  temp_dir dir;
  process_options p;
  p.argv = {REELFARM_BINARY};
  p.argv.insert(p.argv.end(), args.begin(), args.end());
  p.output_file = (dir.path() / "output.log").string();
  p.die_with_parent = true;
  run_outcome out;
  auto status = run_program(p, timeout);
  out.status = status ? *status : -1;
  auto text = read_file(dir.path() / "output.log");
  out.output = text ? *text : "";
  return out;
}

}  // namespace reelfarm::testing
