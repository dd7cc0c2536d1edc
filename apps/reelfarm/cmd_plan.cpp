#include <cstdio>

#include "commands.hpp"

namespace reelfarm::app {

int cmd_plan(const std::vector<std::string>& /*args*/, const global_options& /*options*/) {
  std::fputs("reelfarm plan: not available in this version yet\n", stderr);
  return exit_failure;
}

}  // namespace reelfarm::app
