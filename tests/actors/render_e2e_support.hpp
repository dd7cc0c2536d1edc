#pragma once

// Helpers for the e2e tests that run `reelfarm render` as a user does: start
// it, find its node processes, probe the film, and open its embedded database
// afterwards to audit the ledger and the farm's lease records.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "reelfarm/common/process.hpp"
#include "reelfarm/store/ledger_audit.hpp"
#include "reelfarm/store/store_services.hpp"

namespace reelfarm::testing::render_e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Starts `reelfarm --data-dir DIR/data render DIR/film.fountain --out DIR/out ARGS...`
/// with its output in `log`.
inline child_process start_render(const fs::path& dir, const std::string& screenplay,
                                  const std::vector<std::string>& args, const fs::path& log) {
  std::ofstream(dir / "film.fountain") << screenplay;
  process_options po;
  po.argv = {REELFARM_BINARY,
             "--data-dir",
             (dir / "data").string(),
             "render",
             (dir / "film.fountain").string(),
             "--out",
             (dir / "out").string()};
  po.argv.insert(po.argv.end(), args.begin(), args.end());
  po.output_file = log.string();
  auto child = child_process::spawn(po);
  REQUIRE(child);
  return std::move(child).value();
}

/// Stops a render still running when a test ends (a failed REQUIRE included):
/// SIGTERM lets it stop its nodes and servers; SIGKILL if it does not.
class render_guard {
 public:
  explicit render_guard(child_process& child) : child_(child) {}
  render_guard(const render_guard&) = delete;
  render_guard& operator=(const render_guard&) = delete;
  ~render_guard() {
    if (child_.running()) {
      child_.signal(SIGTERM);
      if (!child_.wait_for(30s)) {
        child_.signal(SIGKILL);
        child_.wait_for(5s);
      }
    }
  }

 private:
  child_process& child_;
};

/// The pid of the `reelfarm node` child of `parent` whose node folder is
/// `render-nodes/node-INDEX` (reelfarm render starts its nodes as direct
/// children with `--node-dir DATA/render-nodes/node-I`); 0 when none runs.
inline pid_t node_pid(pid_t parent, int index) {
  std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
  if (!proc) {
    return 0;
  }
  auto wanted = "render-nodes/node-" + std::to_string(index);
  while (auto* e = readdir(proc.get())) {
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) {
      continue;
    }
    // stat: "pid (comm) state ppid ..."; comm may hold spaces, so parse after ')'.
    auto stat = slurp(fs::path("/proc") / e->d_name / "stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos) {
      continue;
    }
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != parent || state == "Z") {
      continue;
    }
    auto cmdline = slurp(fs::path("/proc") / e->d_name / "cmdline");
    std::vector<std::string> argv;
    std::string arg;
    for (char c : cmdline) {
      if (c == '\0') {
        argv.push_back(arg);
        arg.clear();
      } else {
        arg += c;
      }
    }
    bool is_node = std::find(argv.begin(), argv.end(), "node") != argv.end();
    bool is_index = std::any_of(argv.begin(), argv.end(), [&](const std::string& a) {
      return a.size() >= wanted.size() &&
             a.compare(a.size() - wanted.size(), wanted.size(), wanted) == 0;
    });
    if (is_node && is_index) {
      return pid;
    }
  }
  return 0;
}

/// How many processes have `needle` in their command line (the render's data
/// dir: its nodes, PostgreSQL, Redis), other than this test.
inline int processes_mentioning(const std::string& needle) {
  std::unique_ptr<DIR, int (*)(DIR*)> proc(opendir("/proc"), closedir);
  int found = 0;
  while (proc) {
    auto* e = readdir(proc.get());
    if (e == nullptr) {
      break;
    }
    pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0 || pid == ::getpid()) {
      continue;
    }
    auto cmdline = slurp(fs::path("/proc") / e->d_name / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    found += cmdline.find(needle) != std::string::npos ? 1 : 0;
  }
  return found;
}

/// Waits up to `limit` until no process mentions `needle`; true when none does.
inline bool all_gone(const std::string& needle, std::chrono::milliseconds limit = 10s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (processes_mentioning(needle) > 0) {
    if (std::chrono::steady_clock::now() > until) {
      return false;
    }
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

/// What ffprobe says about a film.
struct probe {
  double duration_s = 0;
  int video_streams = 0;
  int audio_streams = 0;
  std::string video_codec;
  std::string audio_codec;
  int width = 0;
  int height = 0;
};

inline probe ffprobe(const fs::path& film) {
  auto out = film.parent_path() / "probe.json";
  std::string cmd =
      "ffprobe -v error -show_entries stream=codec_type,codec_name,width,height"
      ":format=duration -of json '" +
      film.string() + "' > '" + out.string() + "' 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto doc = nlohmann::json::parse(slurp(out));
  probe p;
  p.duration_s = std::stod(doc["format"]["duration"].get<std::string>());
  for (const auto& s : doc["streams"]) {
    if (s["codec_type"] == "video") {
      ++p.video_streams;
      p.video_codec = s["codec_name"];
      p.width = s["width"];
      p.height = s["height"];
    } else if (s["codec_type"] == "audio") {
      ++p.audio_streams;
      p.audio_codec = s["codec_name"];
    }
  }
  return p;
}

/// The DSN of the render's embedded PostgreSQL while it runs (run/services.json
/// under its data dir), or nothing before it has started.
inline std::optional<std::string> live_dsn(const fs::path& data_dir) {
  auto text = slurp(data_dir / "run" / "services.json");
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.contains("postgres")) {
    return std::nullopt;
  }
  return doc["postgres"].value("dsn", std::string());
}

/// The render's embedded servers started again on its data dir once it has
/// exited, to look at what it left in PostgreSQL.
class stored_state {
 public:
  explicit stored_state(const fs::path& data_dir) {
    config cfg;
    cfg.embedded.data_dir = data_dir.string();
    auto opened = store_services::open(cfg);
    REQUIRE(opened);
    services_ = std::move(opened).value();
    conn_ = std::make_unique<pqxx::connection>(services_->postgres_dsn());
  }
  stored_state(const stored_state&) = delete;
  stored_state& operator=(const stored_state&) = delete;
  ~stored_state() {
    conn_.reset();
    if (services_) {
      (void)services_->stop();
    }
  }

  /// One value of a one-row, one-column query.
  template <class T>
  T one(const std::string& sql) {
    pqxx::work tx(*conn_);
    auto row = tx.exec1(sql);
    return row[0].as<T>();
  }

  /// Every ledger invariant (store/ledger_audit.hpp) holds.
  void check_ledger() {
    auto audit = audit_ledger(*conn_);
    REQUIRE(audit);
    for (const auto& p : audit->problems) {
      UNSCOPED_INFO("ledger: " << p);
    }
    CHECK(audit->consistent());
    CHECK(audit->transactions > 0);
  }

  pqxx::connection& connection() { return *conn_; }

 private:
  std::unique_ptr<store_services> services_;
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace reelfarm::testing::render_e2e
