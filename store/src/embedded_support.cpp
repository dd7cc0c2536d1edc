#include "embedded_support.hpp"

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

std::uintmax_t log_size(const fs::path& file) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  return ec ? 0 : size;
}

bool port_was_taken(const fs::path& file, std::uintmax_t offset) {
  std::ifstream in(file, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("Address already in use") != std::string::npos) {
      return true;
    }
  }
  return false;
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
