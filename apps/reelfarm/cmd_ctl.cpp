#include <cstdio>

#include "commands.hpp"

namespace reelfarm::app {

// Filled in by issue #8; until then the command says so plainly.
int cmd_ctl(const std::vector<std::string>& /*args*/, const global_options& /*options*/) {
  std::fputs("reelfarm ctl: not available in this version yet\n", stderr);
  return exit_failure;
}

}  // namespace reelfarm::app
