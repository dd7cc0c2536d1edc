#pragma once

#include <string>
#include <vector>

#include "reelfarm/farm/coordinator/farm_types.hpp"

namespace reelfarm::farm {

/// The node list of `ctl nodes list` as a JSON array (docs/protocol.md).
std::string nodes_json(const std::vector<node_view>& nodes);

}  // namespace reelfarm::farm
