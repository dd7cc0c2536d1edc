#include "reelfarm/common/process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace std::chrono_literals;

TEST_CASE("a program runs to completion with its exit status and output", "[process]") {
  testing::temp_dir dir;
  process_options p;
  p.argv = {"/bin/sh", "-c", "echo hello; exit 3"};
  p.output_file = (dir.path() / "out.log").string();
  auto status = run_program(p, 10s);
  REQUIRE(status);
  CHECK(*status == 3);
  CHECK(*read_file(dir.path() / "out.log") == "hello\n");
}

TEST_CASE("a program that cannot be executed is an error naming it", "[process]") {
  process_options p;
  p.argv = {"/nonexistent/program"};
  auto child = child_process::spawn(p);
  REQUIRE_FALSE(child);
  CHECK_THAT(child.error().message(),
             Catch::Contains("/nonexistent/program") && Catch::Contains("No such file"));
}

TEST_CASE("a program that runs too long is killed", "[process]") {
  process_options p;
  p.argv = {"/bin/sleep", "30"};
  auto status = run_program(p, 200ms);
  REQUIRE_FALSE(status);
  CHECK_THAT(status.error().message(), Catch::Contains("did not finish"));
}

TEST_CASE("signals reach a child and its status says which", "[process]") {
  process_options p;
  p.argv = {"/bin/sleep", "30"};
  auto child = child_process::spawn(p);
  REQUIRE(child);
  CHECK(child->running());
  child->signal(SIGTERM);
  REQUIRE(child->wait_for(5s));
  CHECK(child->exit_status() == 128 + SIGTERM);
}

TEST_CASE("a child dies with its parent when asked to", "[process]") {
  testing::temp_dir dir;
  auto pid_file = dir.path() / "grandchild.pid";
  // A middle process starts a grandchild with the parent-death signal, then
  // is killed with SIGKILL: the grandchild must go too.
  pid_t middle = fork();
  REQUIRE(middle >= 0);
  if (middle == 0) {
    process_options p;
    p.argv = {"/bin/sleep", "60"};
    p.die_with_parent = true;
    auto child = child_process::spawn(p);
    if (child) {
      std::ofstream(pid_file) << child->pid();
      child->release();
    }
    pause();
    _exit(0);
  }
  pid_t grandchild = 0;
  for (int i = 0; i < 200 && grandchild == 0; ++i) {
    std::ifstream in(pid_file);
    in >> grandchild;
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(grandchild > 0);
  CHECK(process_exists(grandchild));
  kill(middle, SIGKILL);
  waitpid(middle, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    // The grandchild is reparented; once dead it is a zombie or reaped.
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    gone = content.empty() || content.find(") Z") != std::string::npos;
    std::this_thread::sleep_for(10ms);
  }
  CHECK(gone);
}

TEST_CASE("terminate_process stops a process that is not our child", "[process]") {
  process_options p;
  p.argv = {"/bin/sh", "-c", "trap '' TERM; sleep 30"};  // ignores SIGTERM: needs SIGKILL
  auto child = child_process::spawn(p);
  REQUIRE(child);
  std::this_thread::sleep_for(50ms);
  CHECK(terminate_process(child->pid(), SIGTERM, 200ms));
  CHECK_FALSE(child->running());
}

TEST_CASE("accounts are looked up by name", "[process]") {
  auto root = lookup_account("root");
  REQUIRE(root);
  CHECK(root->uid == 0);
  CHECK_FALSE(lookup_account("no-such-account-here"));
}

TEST_CASE("the command line of a process can be read", "[process]") {
  CHECK_THAT(process_command_line(getpid()), Catch::Contains("common_tests"));
  CHECK_FALSE(process_exists(0));
}
