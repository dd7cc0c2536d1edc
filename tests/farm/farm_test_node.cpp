// The node agent as its own small program for the process tests: the same
// parse_node_args + run_node_agent that `reelfarm node` calls, without
// linking every other module of the reelfarm binary.
#include <cstdio>

#include "reelfarm/common/signals.hpp"
#include "reelfarm/farm/node/node_agent.hpp"

int main(int argc, char** argv) {
  auto options = reelfarm::farm::parse_node_args(std::vector<std::string>(argv + 1, argv + argc));
  if (!options) {
    std::fprintf(stderr, "%s\n", options.error().message().c_str());
    return 2;
  }
  reelfarm::signals::install_stop_handlers();
  return reelfarm::farm::run_node_agent(*options,
                                        [] { return reelfarm::signals::stop_requested(); });
}
