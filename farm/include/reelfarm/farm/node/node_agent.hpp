#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"

namespace reelfarm::farm {

/// What `reelfarm node` was asked to do.
struct node_agent_options {
  std::string join;                   ///< tcp://HOST:PORT of the coordinator
  int slots = 0;                      ///< 0: one per GPU, or one on a CPU-only node
  std::string gpus = "auto";          ///< auto, none, or "0,1"
  std::vector<std::string> backends;  ///< animatic, NAME=exec:/path or exec:/path (name "exec")
  std::vector<std::string> tags;
  std::vector<std::string> references;  ///< consistency references already held
  std::filesystem::path data_dir;       ///< node-id file and lease work folders
  std::filesystem::path media_dir;      ///< animatic outputs; empty: DATA_DIR/../media
};

/// Parses the arguments of `reelfarm node` (after the subcommand name).
result<node_agent_options> parse_node_args(const std::vector<std::string>& args);

/// The usage text of `reelfarm node`.
const char* node_usage();

/// Runs the node agent until `stop()` is true or the coordinator refuses it.
/// Returns a process exit code (0 after an orderly stop).
int run_node_agent(const node_agent_options& options, const std::function<bool()>& stop);

}  // namespace reelfarm::farm
