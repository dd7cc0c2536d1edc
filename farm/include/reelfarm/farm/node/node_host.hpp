#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/protocol/messages.hpp"

namespace reelfarm::farm {

/// The GPUs to advertise. `mode`: "auto" (every GPU nvidia-smi lists, none
/// without nvidia-smi), "none", or a comma-separated index list "0,1".
result<std::vector<gpu_info>> detect_gpus(const std::string& mode);

/// Parses nvidia-smi's `index,memory.total,utilization.gpu` CSV (noheader,
/// nounits); malformed lines are skipped.
std::vector<gpu_info> parse_nvidia_smi(const std::string& csv);

/// The node's stable id, kept in `dir`/node-id; created on first start.
result<std::string> load_or_create_node_id(const std::filesystem::path& dir);

}  // namespace reelfarm::farm
