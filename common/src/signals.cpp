#include "reelfarm/common/signals.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>

namespace reelfarm::signals {
namespace {

std::atomic<int> received{0};
int wake_pipe[2] = {-1, -1};  // the handler writes one byte to wake waiters

void on_signal(int sig) {
  int saved = errno;
  received.store(sig);
  if (wake_pipe[1] >= 0) {
    char byte = 1;
    auto n = write(wake_pipe[1], &byte, 1);
    (void)n;
  }
  errno = saved;
}

}  // namespace

void install_stop_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
      wake_pipe[0] = wake_pipe[1] = -1;  // waiters fall back to polling the flag
    }
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    signal(SIGPIPE, SIG_IGN);
  });
}

bool stop_requested() noexcept {
  return received.load() != 0;
}

void request_stop() noexcept {
  on_signal(SIGTERM);
}

int stop_signal() noexcept {
  return received.load();
}

bool wait_for_stop(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!stop_requested()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd fd{wake_pipe[0], POLLIN, 0};
    int wait_ms = static_cast<int>(std::min<long long>(left.count(), 200));
    if (wake_pipe[0] >= 0) {
      poll(&fd, 1, wait_ms);
    } else {
      usleep(static_cast<useconds_t>(wait_ms) * 1000);
    }
  }
  return true;
}

}  // namespace reelfarm::signals
