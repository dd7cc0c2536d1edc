#pragma once

#include <chrono>
#include <cstdio>
#include <string>

/// How `reelfarm ctl` shows a render's progress: a redrawn bar on a
/// terminal, a line per change otherwise (logs, CI).
namespace reelfarm::app {

/// One progress or state event of the API's event stream.
struct progress_state {
  std::string job;
  std::string status;
  int percent = 0;
  std::string step;
  long long shots_done = 0;
  long long shots_total = 0;
  std::string error;
};

class progress_view {
 public:
  explicit progress_view(std::FILE* out);
  void show(const progress_state& s);
  /// Ends the bar's line (before other output).
  void finish();

 private:
  std::string line(const progress_state& s);
  std::string eta(int percent);

  std::FILE* out_;
  bool terminal_;
  bool drawn_ = false;
  std::string last_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  int start_percent_ = -1;
};

}  // namespace reelfarm::app
