#pragma once

#include <string>

#include "reelfarm/farm/node/render_backend.hpp"

namespace reelfarm::farm {

/// Runs an external program per lease: `PROGRAM JOB_FILE OUTPUT_FILE` in the
/// lease's work folder. JOB_FILE holds {"lease","shot","job","backend","spec"}.
/// The program writes the segment to OUTPUT_FILE; lines "progress N [step]"
/// on its standard output are forwarded. Exit 0: done; exit 3: failed, not
/// retryable; anything else (or a signal): failed, retryable. Cancel sends
/// SIGTERM, then SIGKILL after 2 s.
class exec_backend final : public render_backend {
 public:
  /// `name` is what the node advertises; `program` an executable path.
  exec_backend(std::string name, std::string program);
  const std::string& name() const override { return name_; }
  result<void> prepare(const render_job& job) override;
  result<render_output> run(const render_job& job, const progress_fn& progress,
                            const std::atomic<bool>& cancel) override;

 private:
  std::string name_;
  std::string program_;
};

/// "sha256:<hex>" of a file's bytes.
result<std::string> sha256_file(const std::string& path);

}  // namespace reelfarm::farm
