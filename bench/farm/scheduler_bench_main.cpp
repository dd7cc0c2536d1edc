#include <string>
#include <vector>

#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/bench/scheduler_bench.hpp"

int main(int argc, char** argv) {
  // Lost-node warnings are expected in the detection phase; keep the output to figures.
  reelfarm::log::configure(reelfarm::log::level::error, reelfarm::log::format::kv);
  return reelfarm::farm::run_scheduler_bench(std::vector<std::string>(argv + 1, argv + argc));
}
