#include "src/coordinator/admin_json.hpp"

#include <nlohmann/json.hpp>

namespace reelfarm::farm {

std::string nodes_json(const std::vector<node_view>& nodes) {
  auto arr = nlohmann::json::array();
  for (const auto& n : nodes) {
    auto gpus = nlohmann::json::array();
    for (const auto& g : n.gpus) {
      gpus.push_back(
          {{"index", g.index}, {"memory_mb", g.memory_mb}, {"utilization", g.utilization}});
    }
    arr.push_back({{"id", n.id},
                   {"hostname", n.hostname},
                   {"state", n.state},
                   {"slots", n.slots},
                   {"used", n.used},
                   {"gpus", gpus},
                   {"backends", n.backends},
                   {"tags", n.tags},
                   {"leases", n.leases},
                   {"last_heartbeat_ms_ago", n.last_heartbeat_ms_ago},
                   {"failures", n.failures}});
  }
  return arr.dump();
}

}  // namespace reelfarm::farm
