// The CTest fixture for integration tests: `up DIR` starts one PostgreSQL and
// Redis with the product's embedded launcher and leaves them running;
// `down DIR` stops them (the same code that recovers from a crash).
#include <unistd.h>

#include <cstdio>
#include <string>

#include "reelfarm/common/process.hpp"
#include "reelfarm/store/embedded_services.hpp"

namespace {

reelfarm::embedded_options options_for(const std::string& dir) {
  reelfarm::embedded_options options;
  options.data_dir = dir;
  options.durable = false;
  options.detach = true;
  if (geteuid() == 0) {
    if (auto who = reelfarm::lookup_account("postgres")) {
      options.run_as = *who;
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "up" && std::string(argv[1]) != "down")) {
    std::fprintf(stderr, "usage: reelfarm_test_services up|down DIR\n");
    return 2;
  }
  auto options = options_for(argv[2]);
  if (std::string(argv[1]) == "down") {
    auto r = reelfarm::embedded_services::stop_leftovers(options);
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message().c_str());
      return 1;
    }
    std::puts("test services stopped");
    return 0;
  }
  auto services = reelfarm::embedded_services::start(options);
  if (!services) {
    std::fprintf(stderr, "%s\n", services.error().message().c_str());
    return 1;
  }
  std::printf("postgres on 127.0.0.1:%d, redis on 127.0.0.1:%d\n", (*services)->postgres().port,
              (*services)->redis().port);
  (*services)->detach();
  return 0;
}
