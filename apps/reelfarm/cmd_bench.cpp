#include <cstdio>

#include "commands.hpp"

namespace reelfarm::app {

int cmd_bench(const std::vector<std::string>& /*args*/, const global_options& /*options*/) {
  std::fputs("reelfarm bench: not available in this version yet\n", stderr);
  return exit_failure;
}

}  // namespace reelfarm::app
