// Reading a password (without echo) or a line from the terminal.
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "ctl_api.hpp"

namespace reelfarm::app {
namespace {

std::string strip_newline(std::string line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.pop_back();
  }
  return line;
}

result<std::string> read_hidden(const char* prompt) {
  std::fputs(prompt, stderr);
  std::fflush(stderr);
  termios saved{};
  bool restore = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (restore) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  }
  std::fputc('\n', stderr);
  if (!got) {
    return error(ctl_errc::local, "no password typed");
  }
  return strip_newline(line);
}

}  // namespace

result<std::string> read_password(bool from_stdin) {
  if (const char* env = std::getenv("REELFARM_PASSWORD"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  if (from_stdin) {
    std::string line;
    if (!std::getline(std::cin, line) || strip_newline(line).empty()) {
      return error(ctl_errc::local, "--password-stdin: no password on standard input");
    }
    return strip_newline(line);
  }
  if (::isatty(STDIN_FILENO) != 1) {
    return error(ctl_errc::local,
                 "no password: type it at a terminal, or use --password-stdin or "
                 "REELFARM_PASSWORD");
  }
  return read_hidden("Password: ");
}

result<std::string> prompt_line(const char* prompt) {
  if (::isatty(STDIN_FILENO) != 1) {
    return error(ctl_errc::local, std::string("no terminal to ask for: ") + prompt);
  }
  std::fputs(prompt, stderr);
  std::fflush(stderr);
  std::string line;
  if (!std::getline(std::cin, line)) {
    return error(ctl_errc::local, "nothing typed");
  }
  return strip_newline(line);
}

}  // namespace reelfarm::app
