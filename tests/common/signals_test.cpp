#include "reelfarm/common/signals.hpp"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace reelfarm;
using namespace std::chrono_literals;

TEST_CASE("a stop request wakes waiters", "[signals]") {
  signals::install_stop_handlers();
  CHECK_FALSE(signals::wait_for_stop(10ms));
  kill(getpid(), SIGTERM);
  CHECK(signals::wait_for_stop(2s));
  CHECK(signals::stop_signal() == SIGTERM);
}
