#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// A local account that child processes can run as.
struct account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

/// Looks up `name` in the password database.
result<account> lookup_account(const std::string& name);

/// How to start a child process.
struct process_options {
  std::vector<std::string> argv;  ///< argv[0] is the executable's path
  std::optional<account> run_as;  ///< switch to this account (needs root)
  std::string working_dir;        ///< empty: inherit
  std::string output_file;        ///< stdout and stderr appended here; empty: /dev/null
  /// Deliver `death_signal` when the parent dies (kill -9). Linux ties this to
  /// the parent *thread*: spawn long-lived children from a thread that lives
  /// as long as they should (the main thread in reelfarm's programs).
  bool die_with_parent = true;
  int death_signal = 15;          ///< SIGTERM unless the program wants another
  bool own_process_group = true;  ///< so a terminal's Ctrl-C reaches only the parent
  /// "NAME=value" entries added to the inherited environment (a secret for
  /// the child goes here, not in argv, which every local user can read).
  std::vector<std::string> extra_environment;
};

/// A child process started by `spawn`. Not copyable; moving transfers the
/// duty to reap it. The destructor reaps an exited child but never kills a
/// running one: stopping is always an explicit decision of the owner.
class child_process {
 public:
  child_process() = default;
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();

  /// Starts a child. Fails with a message naming the program when it cannot be
  /// executed (the exec error is reported back through a pipe, not guessed).
  static result<child_process> spawn(const process_options& options);

  pid_t pid() const noexcept { return pid_; }
  /// True while the child has not exited; reaps it when it has.
  bool running();
  /// The exit status once the child has exited (128+N for a signal N).
  std::optional<int> exit_status() const noexcept { return status_; }
  /// Sends `sig` to the child if it still runs.
  void signal(int sig);
  /// Waits up to `timeout` for the child to exit; true when it did.
  bool wait_for(std::chrono::milliseconds timeout);
  /// Forgets the child without reaping it: it keeps running on its own.
  void release() noexcept { pid_ = -1; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

/// Runs a program to completion (initdb and the like), collecting its output
/// into `output_file` and returning its exit status.
result<int> run_program(const process_options& options, std::chrono::milliseconds timeout);

/// True when a process with this pid exists (it may belong to another user).
bool process_exists(pid_t pid) noexcept;
/// The command line of a running process, arguments separated by spaces.
std::string process_command_line(pid_t pid);
/// Sends `sig`, then waits up to `timeout` for the process to disappear, then
/// sends SIGKILL and waits a little more. Works for processes that are not our
/// children (left over from a crash). True when the process is gone.
bool terminate_process(pid_t pid, int sig, std::chrono::milliseconds timeout);

}  // namespace reelfarm
