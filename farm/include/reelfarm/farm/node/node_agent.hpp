#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/node/provider_spec.hpp"
#include "reelfarm/farm/protocol/farm_credentials.hpp"

namespace reelfarm::farm {

/// What `reelfarm node` was asked to do.
struct node_agent_options {
  std::string join;  ///< tcp://HOST:PORT of the coordinator
  /// A join token (`reelfarm ctl nodes token`): needed until the node's key
  /// is enrolled; the key and the coordinator's key then live in
  /// DATA_DIR/farm-credentials.json.
  std::string token;
  int slots = 0;              ///< 0: one per GPU, or one on a CPU-only node
  std::string gpus = "auto";  ///< auto, none, or "0,1"
  /// animatic, NAME=exec:/path, exec:/path (name "exec"), or a provider:
  /// comfyui=URL,workflow=FILE / replicate=URL,model=M / runpod=URL,endpoint=E
  std::vector<std::string> backends;
  std::vector<std::string> tags;
  std::vector<std::string> references;  ///< consistency references already held
  std::filesystem::path data_dir;       ///< node-id file and lease work folders
  std::filesystem::path media_dir;      ///< animatic outputs; empty: DATA_DIR/../media
  provider_credentials providers;       ///< provider URLs and keys (config, environment)
};

/// Parses the arguments of `reelfarm node` (after the subcommand name).
result<node_agent_options> parse_node_args(const std::vector<std::string>& args);

/// The usage text of `reelfarm node`.
const char* node_usage();

/// The node's farm credentials: with a token, the node's kept keypair (or a
/// new one) and the coordinator key the token names, written to
/// DATA_DIR/farm-credentials.json; without one, that file as it is.
result<farm_credentials> node_credentials(const node_agent_options& options);

/// Runs the node agent until `stop()` is true or the coordinator refuses it.
/// Returns a process exit code (0 after an orderly stop).
int run_node_agent(const node_agent_options& options, const std::function<bool()>& stop);

}  // namespace reelfarm::farm
