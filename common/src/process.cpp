#include "reelfarm/common/process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

#include "reelfarm/common/errc.hpp"

namespace reelfarm {
namespace {

using namespace std::chrono_literals;

int decode_status(int raw) {
  if (WIFEXITED(raw)) {
    return WEXITSTATUS(raw);
  }
  if (WIFSIGNALED(raw)) {
    return 128 + WTERMSIG(raw);
  }
  return 255;
}

// Reports errno from the child to the parent through the close-on-exec pipe and
// exits; only async-signal-safe calls are allowed between fork and exec.
[[noreturn]] void child_fail(int pipe_fd, int stage) {
  int payload[2] = {stage, errno};
  auto written = ::write(pipe_fd, payload, sizeof payload);
  (void)written;
  _exit(127);
}

const char* stage_name(int stage) {
  switch (stage) {
    case 1:
      return "opening its output file";
    case 2:
      return "changing to its working directory";
    case 3:
      return "switching account";
    case 4:
      return "setting its parent-death signal";
    default:
      return "executing it";
  }
}

}  // namespace

result<account> lookup_account(const std::string& name) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  int rc = getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    return error(common_errc::invalid_argument, "no local account named '" + name + "'");
  }
  return account{name, found->pw_uid, found->pw_gid};
}

child_process::child_process(child_process&& other) noexcept
    : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    running();  // reap what we held if it already exited
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

child_process::~child_process() {
  running();
}

result<child_process> child_process::spawn(const process_options& options) {
  if (options.argv.empty()) {
    return error(common_errc::invalid_argument, "no program given to start");
  }
  // Everything the child needs is prepared before fork: after it, a
  // multi-threaded parent's child may only make async-signal-safe calls.
  std::vector<char*> argv;
  for (const auto& a : options.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  // Built before fork: the child of a threaded program may not allocate.
  // The extra entries come first: getenv() takes the first of a name.
  std::vector<char*> envp;
  for (const auto& e : options.extra_environment) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    envp.push_back(*e);
  }
  envp.push_back(nullptr);
  std::vector<gid_t> groups;
  if (options.run_as) {
    int count = 64;
    groups.resize(static_cast<size_t>(count));
    if (getgrouplist(options.run_as->name.c_str(), options.run_as->gid, groups.data(), &count) <
        0) {
      groups.resize(static_cast<size_t>(count));
      getgrouplist(options.run_as->name.c_str(), options.run_as->gid, groups.data(), &count);
    }
    groups.resize(static_cast<size_t>(count));
  }
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    return error(common_errc::process, std::string("cannot create a pipe: ") + strerror(errno));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close(report[0]);
    close(report[1]);
    return error(common_errc::process,
                 "cannot start " + options.argv[0] + ": fork failed: " + strerror(err));
  }
  if (pid == 0) {
    close(report[0]);
    if (options.own_process_group) {
      setpgid(0, 0);
    }
    int out = open(options.output_file.empty() ? "/dev/null" : options.output_file.c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (out < 0) {
      child_fail(report[1], 1);
    }
    int in = open("/dev/null", O_RDONLY);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    if (!options.working_dir.empty() && chdir(options.working_dir.c_str()) != 0) {
      child_fail(report[1], 2);
    }
    if (options.run_as) {
      if (setgroups(groups.size(), groups.data()) != 0 || setgid(options.run_as->gid) != 0 ||
          setuid(options.run_as->uid) != 0) {
        child_fail(report[1], 3);
      }
    }
    // After the account switch: changing credentials clears the parent-death signal.
    if (options.die_with_parent) {
      if (prctl(PR_SET_PDEATHSIG, options.death_signal) != 0) {
        child_fail(report[1], 4);
      }
      if (getppid() != parent) {  // the parent died before prctl took effect
        _exit(128 + options.death_signal);
      }
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    execve(argv[0], argv.data(), envp.data());
    child_fail(report[1], 5);
  }
  close(report[1]);
  int payload[2] = {0, 0};
  ssize_t n;
  do {
    n = read(report[0], payload, sizeof payload);
  } while (n < 0 && errno == EINTR);
  close(report[0]);
  child_process child;
  child.pid_ = pid;
  if (n > 0) {
    child.wait_for(5s);
    return error(common_errc::process, "cannot start " + options.argv[0] + ": " +
                                           stage_name(payload[0]) +
                                           " failed: " + strerror(payload[1]));
  }
  return child;
}

bool child_process::running() {
  if (pid_ <= 0) {
    return false;
  }
  int raw = 0;
  pid_t r = waitpid(pid_, &raw, WNOHANG);
  if (r == pid_) {
    status_ = decode_status(raw);
    pid_ = -1;
    return false;
  }
  if (r < 0 && errno == ECHILD) {
    pid_ = -1;
    return false;
  }
  return true;
}

void child_process::signal(int sig) {
  if (running()) {
    kill(pid_, sig);
  }
}

bool child_process::wait_for(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto step = 1ms;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(step);
    step = std::min(step * 2, std::chrono::milliseconds(50));
  }
  return true;
}

result<int> run_program(const process_options& options, std::chrono::milliseconds timeout) {
  auto child = child_process::spawn(options);
  if (!child) {
    return std::move(child).error();
  }
  if (!child->wait_for(timeout)) {
    child->signal(SIGKILL);
    child->wait_for(5s);
    return error(common_errc::timeout, options.argv[0] + " did not finish within " +
                                           std::to_string(timeout.count()) + " ms");
  }
  return *child->exit_status();
}

bool process_exists(pid_t pid) noexcept {
  if (pid <= 0) {
    return false;
  }
  if (kill(pid, 0) != 0 && errno != EPERM) {
    return false;
  }
  // A zombie has exited; it only waits for a parent (or an init that may
  // never reap it, as in some containers) to collect its status.
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  std::FILE* stat = std::fopen(path, "r");
  if (stat == nullptr) {
    return true;
  }
  char buffer[512];
  size_t n = std::fread(buffer, 1, sizeof buffer - 1, stat);
  std::fclose(stat);
  buffer[n] = '\0';
  const char* close_paren = std::strrchr(buffer, ')');
  return close_paren == nullptr || close_paren[1] == '\0' || close_paren[2] != 'Z';
}

std::string process_command_line(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (auto& c : text) {
    if (c == '\0') {
      c = ' ';
    }
  }
  while (!text.empty() && text.back() == ' ') {
    text.pop_back();
  }
  return text;
}

bool terminate_process(pid_t pid, int sig, std::chrono::milliseconds timeout) {
  if (!process_exists(pid)) {
    return true;
  }
  kill(pid, sig);
  // If it is our child it must be reaped, or it lingers as a zombie forever.
  auto gone = [pid] {
    waitpid(pid, nullptr, WNOHANG);
    return !process_exists(pid);
  };
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (gone()) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  kill(pid, SIGKILL);
  for (int i = 0; i < 100; ++i) {
    if (gone()) {
      return true;
    }
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace reelfarm
