#include "progress_view.hpp"

#include <unistd.h>

#include <algorithm>

namespace reelfarm::app {

progress_view::progress_view(std::FILE* out) : out_(out), terminal_(::isatty(fileno(out)) == 1) {}

std::string progress_view::eta(int percent) {
  auto now = std::chrono::steady_clock::now();
  if (start_percent_ < 0 || percent <= start_percent_ || percent >= 100) {
    if (start_percent_ < 0 && percent > 0) {
      start_percent_ = percent;
      start_ = now;
    }
    return "--:--";
  }
  auto elapsed = std::chrono::duration<double>(now - start_).count();
  auto rest = static_cast<long>(elapsed * (100 - percent) / (percent - start_percent_));
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld", rest / 60, rest % 60);
  return text;
}

std::string progress_view::line(const progress_state& s) {
  char text[512];
  std::snprintf(text, sizeof text, "%3d%%  %lld/%lld shots  %-10s  %s", s.percent, s.shots_done,
                s.shots_total, s.status.c_str(), s.step.c_str());
  return text;
}

void progress_view::show(const progress_state& s) {
  int percent = std::clamp(s.percent, 0, 100);
  auto text = line(s);
  auto remaining = eta(percent);
  if (!terminal_) {
    if (text != last_) {
      std::fprintf(out_, "%s  eta %s\n", text.c_str(), remaining.c_str());
      std::fflush(out_);
      last_ = text;
    }
    return;
  }
  constexpr int width = 30;
  std::string bar(static_cast<std::size_t>(percent * width / 100), '#');
  bar.resize(width, '.');
  std::fprintf(out_, "\r\033[K[%s] %s  ETA %s", bar.c_str(), text.c_str(), remaining.c_str());
  std::fflush(out_);
  drawn_ = true;
}

void progress_view::finish() {
  if (drawn_) {
    std::fputc('\n', out_);
    std::fflush(out_);
    drawn_ = false;
  }
}

}  // namespace reelfarm::app
