#include "embedded_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <fstream>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm::embedded {
namespace fs = std::filesystem;

namespace {

// Binds 127.0.0.1:port (0: any); returns the bound port or 0 when taken.
int try_bind(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return 0;
  }
  // Servers bind with SO_REUSEADDR, so a port whose last connections linger
  // in TIME_WAIT is free for them; probe the same way or the remembered port
  // is never reused after a restart.
  int reuse = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int bound = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      bound = ntohs(addr.sin_port);
    }
  }
  close(fd);
  return bound;
}

}  // namespace

result<int> free_loopback_port(int preferred) {
  if (preferred > 0 && try_bind(preferred) == preferred) {
    return preferred;
  }
  if (int port = try_bind(0); port > 0) {
    return port;
  }
  return error(store_errc::server_start,
               std::string("no free TCP port on 127.0.0.1: ") + strerror(errno));
}

int remembered_port(const fs::path& data_dir, const std::string& name) {
  std::ifstream in(data_dir / "run" / (name + ".port"));
  int port = 0;
  if (in >> port && port > 0 && port < 65536) {
    return port;
  }
  return 0;
}

void remember_port(const fs::path& data_dir, const std::string& name, int port) {
  // Best effort: a forgotten port only means a different one next time.
  if (ensure_directory(data_dir / "run", 0755)) {
    (void)write_file_atomically(data_dir / "run" / (name + ".port"), std::to_string(port) + "\n",
                                0644);
  }
}

result<std::string> stored_secret(const fs::path& data_dir, const std::string& name) {
  auto dir = data_dir / "secrets";
  auto file = dir / name;
  if (auto existing = read_file(file); existing && !existing->empty()) {
    auto text = std::move(existing).value();
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
    return text;
  }
  if (auto r = ensure_directory(dir, 0700); !r) {
    return std::move(r).error();
  }
  auto secret = random_hex(24);
  if (!secret) {
    return secret;
  }
  if (auto r = write_file_atomically(file, *secret + "\n", 0600); !r) {
    return std::move(r).error();
  }
  return secret;
}

std::optional<pid_t> read_pid_file(const fs::path& pid_file) {
  std::ifstream in(pid_file);
  long pid = 0;
  if (in >> pid && pid > 0) {
    return static_cast<pid_t>(pid);
  }
  return std::nullopt;
}

result<void> stop_by_pid_file(const fs::path& pid_file, const std::string& program, int sig,
                              std::chrono::milliseconds timeout) {
  auto pid = read_pid_file(pid_file);
  if (!pid || !process_exists(*pid)) {
    return ok();
  }
  auto cmdline = process_command_line(*pid);
  if (cmdline.find(program) == std::string::npos) {
    return ok();  // the pid was reused by an unrelated process
  }
  log::warn("store", "stopping a server left running by an earlier reelfarm",
            {{"program", program}, {"pid", *pid}, {"pid_file", pid_file.string()}});
  if (!terminate_process(*pid, sig, timeout)) {
    return error(store_errc::server_stop,
                 "cannot stop the " + program + " left running as pid " + std::to_string(*pid));
  }
  return ok();
}

std::string log_tail(const fs::path& file, size_t max_lines) {
  std::ifstream in(file);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > max_lines) {
      lines.pop_front();
    }
  }
  std::string out;
  for (const auto& l : lines) {
    out += "\n    " + l;
  }
  return out;
}

}  // namespace reelfarm::embedded
