#include <cstdio>

#include "commands.hpp"

namespace reelfarm::app {

// Filled in by issue #5; until then the command says so plainly.
int cmd_render_shot(const std::vector<std::string>& /*args*/, const global_options& /*options*/) {
  std::fputs("reelfarm render-shot: not available in this version yet\n", stderr);
  return exit_failure;
}

}  // namespace reelfarm::app
