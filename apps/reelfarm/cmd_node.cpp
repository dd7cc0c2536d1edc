#include <cstdio>

#include "commands.hpp"
#include "reelfarm/common/signals.hpp"
#include "reelfarm/farm/node/node_agent.hpp"
#include "reelfarm/store/embedded_options.hpp"

namespace reelfarm::app {

// `reelfarm node --join tcp://HOST:PORT ...`: a render node (farm/node/).
int cmd_node(const std::vector<std::string>& args, const global_options& options) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(farm::node_usage(), stdout);
    return exit_ok;
  }
  auto parsed = farm::parse_node_args(args);
  if (!parsed) {
    std::fprintf(stderr, "reelfarm node: %s\n%s", parsed.error().message().c_str(),
                 farm::node_usage());
    return exit_usage;
  }
  auto cfg = load_configuration(options);
  if (!cfg) {
    return exit_usage;
  }
  auto node_options = std::move(parsed).value();
  if (node_options.data_dir.empty()) {
    auto data = cfg->embedded.data_dir.empty() ? default_data_dir()
                                               : std::filesystem::path(cfg->embedded.data_dir);
    node_options.data_dir = data / "node";
  }
  signals::install_stop_handlers();
  return farm::run_node_agent(node_options, [] { return signals::stop_requested(); });
}

}  // namespace reelfarm::app
