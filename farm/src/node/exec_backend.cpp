#include "reelfarm/farm/node/exec_backend.hpp"

#include <signal.h>
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/farm/errc.hpp"

namespace reelfarm::farm {
namespace {

using namespace std::chrono_literals;

// Forwards "progress N step" lines that appeared since `offset`.
void forward_progress(const std::filesystem::path& log, std::size_t& offset,
                      const progress_fn& progress) {
  std::ifstream in(log);
  in.seekg(static_cast<std::streamoff>(offset));
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) {
      break;  // a line still being written
    }
    offset += line.size() + 1;
    std::istringstream words(line);
    std::string word;
    int percent = 0;
    if (words >> word && word == "progress" && words >> percent) {
      std::string step;
      std::getline(words >> std::ws, step);
      progress(std::clamp(percent, 0, 100), step.substr(0, 128));
    }
  }
}

std::string job_file_text(const render_job& job) {
  nlohmann::json j = {{"lease", job.offer.lease},
                      {"shot", job.offer.shot},
                      {"job", job.offer.job},
                      {"backend", job.offer.backend},
                      {"spec", nlohmann::json::parse(job.offer.spec, nullptr, false)}};
  return j.dump();
}

// Stops the child: SIGTERM, then SIGKILL after 2 s.
void stop_child(child_process& child) {
  child.signal(SIGTERM);
  if (!child.wait_for(2000ms)) {
    child.signal(SIGKILL);
    child.wait_for(2000ms);
  }
}

}  // namespace

exec_backend::exec_backend(std::string name, std::string program)
    : name_(std::move(name)), program_(std::move(program)) {}

result<void> exec_backend::prepare(const render_job& job) {
  if (::access(program_.c_str(), X_OK) != 0) {
    return error(farm_errc::backend, "backend program " + program_ + " is not executable");
  }
  return write_file_atomically(job.work_dir / "job.json", job_file_text(job), 0644);
}

result<render_output> exec_backend::run(const render_job& job, const progress_fn& progress,
                                        const std::atomic<bool>& cancel) {
  auto started = std::chrono::steady_clock::now();
  auto output = job.work_dir / "segment.out";
  auto log = job.work_dir / "backend.log";
  process_options p;
  p.argv = {program_, (job.work_dir / "job.json").string(), output.string()};
  p.working_dir = job.work_dir.string();
  p.output_file = log.string();
  auto child = child_process::spawn(p);
  if (!child) {
    return error(farm_errc::backend, child.error().message());
  }
  std::size_t offset = 0;
  while (child->running()) {
    if (cancel) {
      stop_child(*child);
      return error(farm_errc::timeout, "cancelled");
    }
    forward_progress(log, offset, progress);
    std::this_thread::sleep_for(50ms);
  }
  forward_progress(log, offset, progress);
  int status = child->exit_status().value_or(-1);
  if (status != 0) {
    auto code = status == 3 ? farm_errc::invalid_argument : farm_errc::backend;
    return error(code, "backend program exited with status " + std::to_string(status));
  }
  auto sum = sha256_file(output.string());
  if (!sum) {
    return error(farm_errc::backend, "backend program wrote no output: " + sum.error().message());
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started);
  return render_output{output.string(), *sum, ms.count()};
}

result<std::string> sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return error(farm_errc::backend, "cannot read " + path);
  }
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    crypto_hash_sha256_update(&state, reinterpret_cast<unsigned char*>(buf),
                              static_cast<unsigned long long>(in.gcount()));
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  static const char* hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned char c : digest) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

}  // namespace reelfarm::farm
