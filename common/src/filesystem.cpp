#include "reelfarm/common/filesystem.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "reelfarm/common/errc.hpp"

namespace reelfarm {
namespace fs = std::filesystem;

namespace {

error io_error(const std::string& what, const fs::path& path, int err) {
  return error(common_errc::io, what + " " + path.string() + ": " + strerror(err));
}

}  // namespace

result<void> ensure_directory(const fs::path& dir, mode_t mode,
                              const std::optional<account>& owner) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return error(common_errc::io, "cannot create directory " + dir.string() + ": " + ec.message());
  }
  if (chmod(dir.c_str(), mode) != 0) {
    return io_error("cannot set the mode of", dir, errno);
  }
  if (owner && chown(dir.c_str(), owner->uid, owner->gid) != 0) {
    return io_error("cannot change the owner of", dir, errno);
  }
  return ok();
}

result<void> write_file_atomically(const fs::path& file, std::string_view content, mode_t mode,
                                   const std::optional<account>& owner) {
  // A temporary name of this writer's own, created fresh (O_EXCL, never a
  // leftover of another mode or a planted symbolic link) and readable by
  // the owner only until the fchmod below: two writers of one file (two
  // nodes storing the same reference) never share it, and a secret is never
  // briefly readable by others.
  static std::atomic<std::uint64_t> writes{0};
  auto tmp = file;
  tmp += ".tmp." + std::to_string(getpid()) + "." + std::to_string(++writes);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return io_error("cannot create", tmp, errno);
  }
  size_t done = 0;
  while (done < content.size()) {
    auto n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      int err = errno;
      close(fd);
      (void)unlink(tmp.c_str());
      return io_error("cannot write", tmp, err);
    }
    done += static_cast<size_t>(n);
  }
  // fchmod: the umask may have narrowed `mode` at creation.
  if (fchmod(fd, mode) != 0 || (owner && fchown(fd, owner->uid, owner->gid) != 0) ||
      fsync(fd) != 0) {
    int err = errno;
    close(fd);
    (void)unlink(tmp.c_str());
    return io_error("cannot finish", tmp, err);
  }
  close(fd);
  if (rename(tmp.c_str(), file.c_str()) != 0) {
    int err = errno;
    (void)unlink(tmp.c_str());
    return io_error("cannot rename onto", file, err);
  }
  return ok();
}

result<std::string> read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return io_error("cannot read", file, errno);
  }
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

result<void> check_reachable(const fs::path& dir, const account& who) {
  auto absolute = fs::absolute(dir).lexically_normal();
  for (auto p = absolute.parent_path(); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) == 0) {
      bool can = (st.st_uid == who.uid && (st.st_mode & S_IXUSR)) ||
                 (st.st_gid == who.gid && (st.st_mode & S_IXGRP)) || (st.st_mode & S_IXOTH);
      if (!can) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return error(common_errc::io, "the account '" + who.name + "' cannot reach " +
                                          absolute.string() + ": " + p.string() + " is mode " +
                                          mode + "; choose a folder outside it");
      }
    }
    if (p == p.root_path()) {
      break;
    }
  }
  return ok();
}

result<std::string> random_hex(size_t count) {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::string bytes(count, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(count))) {
    return error(common_errc::io, "cannot read /dev/urandom");
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(count * 2);
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

result<file_lock> file_lock::acquire(const fs::path& file) {
  int fd = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return io_error("cannot open lock file", file, errno);
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) {
      return error(common_errc::io, "another reelfarm process is using " +
                                        file.parent_path().string() + " (it holds " +
                                        file.string() + ")");
    }
    return io_error("cannot lock", file, err);
  }
  return file_lock(fd);
}

file_lock& file_lock::operator=(file_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      close(fd_);
    }
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

file_lock::~file_lock() {
  if (fd_ >= 0) {
    close(fd_);  // closing the last descriptor releases the flock
  }
}

}  // namespace reelfarm
