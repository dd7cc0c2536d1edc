// `reelfarm render FILE.fountain`: the whole farm on one machine for one film.
// Embedded PostgreSQL and Redis, an in-process coordinator, N local render
// nodes as child processes of the main thread (they die with it, see
// process.hpp), the render actors, a progress bar, and the film copied out.
// A killed or interrupted run resumes when the same command runs again with
// the same data dir: the job lives in PostgreSQL, finished shots are kept,
// nothing is charged twice.
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "commands.hpp"
#include "reelfarm/actors/render_service.hpp"
#include "reelfarm/actors/shot_plan.hpp"
#include "reelfarm/common/errc.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/common/signals.hpp"
#include "reelfarm/farm/coordinator/admin_client.hpp"
#include "reelfarm/farm/coordinator/coordinator.hpp"
#include "reelfarm/media/encode_settings.hpp"
#include "reelfarm/screenplay/fountain.hpp"
#include "reelfarm/store/account_repository.hpp"
#include "reelfarm/store/credit_ledger.hpp"
#include "reelfarm/store/embedded_options.hpp"
#include "reelfarm/store/job_repository.hpp"
#include "reelfarm/store/store_services.hpp"

namespace reelfarm::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr const char* local_email = "local@reelfarm.localhost";

struct render_args {
  fs::path file;
  fs::path out = "reelfarm-out";
  int nodes = 2;
  std::string plan = "pro";
  std::string resolution;  ///< WxH; empty: 1280x720
  /// What every node renders with: "animatic" (built in) or
  /// "animatic=exec:PROGRAM" (an external renderer; see docs/farm.md).
  std::string backend = "animatic";
  int threads = 0;  ///< x264 threads per node; 0: threads_per_node's default
};

// One x264 thread per node unless --threads says otherwise: the film is then
// the same, byte for byte, whatever --nodes is and however loaded the machine
// (media::encode_settings says why), and nodes, not threads, share the cores.
int threads_per_node(const render_args& r) {
  return r.threads > 0 ? r.threads : media::encode_settings{}.threads;
}

// Shots ask the farm for the backend "animatic", so a node's backend must
// carry that name; "exec:PROGRAM" is short for "animatic=exec:PROGRAM".
std::optional<std::string> backend_spec(const std::string& given) {
  if (given == "animatic") {
    return given;
  }
  auto how = given.starts_with("animatic=") ? given.substr(9) : given;
  if (how.starts_with("exec:") && how.size() > 5) {
    return "animatic=" + how;
  }
  return std::nullopt;
}

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: reelfarm render FILE.fountain [--out DIR] [--nodes N] [--plan PLAN]\n"
      "                       [--resolution WxH] [--threads T] [--backend SPEC]\n"
      "  Renders a screenplay into a film on this machine: embedded PostgreSQL and\n"
      "  Redis, a coordinator and N local render nodes (default 2). Charges a local\n"
      "  account on PLAN (default pro) like any user. Writes film.mp4, film.srt,\n"
      "  film.vtt, thumbnail.jpg and manifest.json to DIR (default ./reelfarm-out).\n"
      "  Interrupted or killed: run the same command again to resume.\n"
      "  --threads T     x264 threads per node (default 1: the same film every time;\n"
      "                  more is faster per shot, but the bytes then vary by run)\n"
      "  --backend SPEC  what the nodes render with: animatic (built in, default) or\n"
      "                  exec:PROGRAM (run PROGRAM JOB_FILE OUTPUT_FILE per shot,\n"
      "                  docs/farm.md; for now only its failures reach the film:\n"
      "                  docs/actors.md, Known gaps)\n",
      out);
}

std::optional<render_args> parse_args(const std::vector<std::string>& args) {
  render_args r;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    bool has = i + 1 < args.size();
    if (a == "--out" && has) {
      r.out = args[++i];
    } else if (a == "--nodes" && has) {
      r.nodes = std::atoi(args[++i].c_str());
      if (r.nodes < 1 || r.nodes > 64) {
        std::fputs("reelfarm render: --nodes takes 1 to 64\n", stderr);
        return std::nullopt;
      }
    } else if (a == "--plan" && has) {
      r.plan = args[++i];
    } else if (a == "--resolution" && has) {
      r.resolution = args[++i];
    } else if (a == "--threads" && has) {
      r.threads = std::atoi(args[++i].c_str());
      if (r.threads < 1 || r.threads > 64) {
        std::fputs("reelfarm render: --threads takes 1 to 64\n", stderr);
        return std::nullopt;
      }
    } else if (a == "--backend" && has) {
      auto spec = backend_spec(args[++i]);
      if (!spec) {
        std::fputs("reelfarm render: --backend takes animatic or exec:PROGRAM\n", stderr);
        return std::nullopt;
      }
      r.backend = *spec;
    } else if (!a.starts_with("--") && r.file.empty()) {
      r.file = a;
    } else {
      return std::nullopt;
    }
  }
  if (r.file.empty()) {
    return std::nullopt;
  }
  return r;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return in ? std::string(std::istreambuf_iterator<char>(in), {}) : std::string();
}

// The local account: created on first use, moved to the chosen plan.
result<user_account> local_account(pg_pool& pool, credit_ledger& ledger,
                                   const std::string& plan_name) {
  account_repository accounts(pool, ledger.plans());
  auto user = accounts.find_by_email(local_email);
  if (!user) {
    std::random_device rd;
    user = accounts.create({local_email, "local-" + std::to_string(rd()) + std::to_string(rd()),
                            "Local renders", "creator"});
  }
  if (!user) {
    return user.error();
  }
  if (user->plan != plan_name) {
    auto key = "local:" + user->plan + "->" + plan_name + ":" +
               std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    if (auto changed = ledger.change_plan(user->id, plan_name, key); !changed) {
      return changed.error();
    }
  }
  return accounts.get(user->id);
}

// The local account renders like any user, but nobody sells it credits: when
// the monthly allowance is short of the film's price, the shortfall is
// granted (a visible Grant row), so the ledger stays exact.
result<std::int64_t> top_up_if_short(credit_ledger& ledger, const user_account& user,
                                     const actors::job_context& ctx, const job_record& job) {
  if (job.status != "queued" || user.credits_unlimited) {
    return std::int64_t{0};
  }
  auto prepared = actors::prepare_job(ctx, job);
  if (!prepared) {
    return std::int64_t{0};  // the supervisor reports the same error properly
  }
  auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  (void)ledger.reset_if_due(user.id, today);
  auto balance = ledger.balance(user.id);
  if (!balance) {
    return balance.error();
  }
  auto shortfall = prepared->cost_credits - *balance;
  if (shortfall <= 0) {
    return std::int64_t{0};
  }
  auto granted = ledger.grant(user.id, shortfall, "local render top-up", "local-topup:" + job.id);
  if (!granted) {
    return granted.error();
  }
  return shortfall;
}

// Finds the job to resume for this screenplay, or makes a new one.
result<job_record> job_for(job_repository& jobs, const user_account& user, const std::string& title,
                           const std::string& script, const std::string& settings) {
  auto live = jobs.find_live_job(user.id, script);
  if (!live) {
    return live.error();
  }
  if (*live) {
    return jobs.get(**live);
  }
  auto project = jobs.create_project(user.id, title, script, settings);
  if (!project) {
    return project.error();
  }
  return jobs.create(user.id, *project, "render", settings);
}

/// The local farm: coordinator thread and node processes.
class local_farm {
 public:
  ~local_farm() { stop(); }

  result<void> start(const config& cfg, const std::string& dsn, const fs::path& data,
                     const fs::path& media, const render_args& args) {
    farm::coordinator_options co;
    co.bind = "tcp://127.0.0.1:*";  // the OS picks the port; nodes join the bound endpoint
    co.timing.heartbeat = std::min(cfg.farm.heartbeat, std::chrono::milliseconds(500));
    co.timing.ttl = std::min(cfg.farm.lease_ttl, std::chrono::milliseconds(3000));
    co.postgres_dsn = dsn;
    co.operator_key_file = farm::operator_key_path(data);
    auto coordinator = farm::coordinator::create(co);
    if (!coordinator) {
      return coordinator.error();
    }
    coordinator_ = std::move(coordinator).value();
    thread_ = std::thread([this] { coordinator_->run([this] { return stopping_.load(); }); });
    join_ = coordinator_->endpoint();
    media_ = media;
    data_ = data;
    backend_ = args.backend;
    threads_ = threads_per_node(args);
    for (int i = 0; i < args.nodes; ++i) {
      if (auto r = spawn_node(i); !r) {
        return r;
      }
    }
    return ok();
  }

  // A node that died (killed, crashed) is replaced; the farm re-queues its shot.
  void keep_nodes_alive() {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i].running() && !stopping_) {
        log::warn("render", "a render node exited; starting another", {{"node", i}});
        (void)spawn_node(static_cast<int>(i));
      }
    }
  }

  void stop() {
    for (auto& n : nodes_) {
      n.signal(SIGTERM);
    }
    for (auto& n : nodes_) {
      if (!n.wait_for(5s)) {
        n.signal(SIGKILL);
        n.wait_for(2s);
      }
    }
    nodes_.clear();
    stopping_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
    coordinator_.reset();
  }

  farm::coordinator* coordinator() const { return coordinator_.get(); }

 private:
  result<void> spawn_node(int index) {
    auto dir = data_ / "render-nodes" / ("node-" + std::to_string(index));
    fs::create_directories(dir);
    process_options po;
    po.argv = {fs::read_symlink("/proc/self/exe").string(),
               "--log-level",
               "warn",
               "node",
               "--join",
               join_,
               "--backend",
               backend_,
               "--threads",
               std::to_string(threads_),
               "--media-dir",
               media_.string(),
               "--node-dir",
               dir.string()};
    po.output_file = (dir / "node.log").string();
    auto token = coordinator_->create_join_token(std::chrono::minutes(10));
    if (!token) {
      return token.error();
    }
    po.extra_environment.push_back("REELFARM_JOIN_TOKEN=" + *token);
    auto child = child_process::spawn(po);
    if (!child) {
      return child.error();
    }
    if (static_cast<std::size_t>(index) < nodes_.size()) {
      nodes_[static_cast<std::size_t>(index)] = std::move(child).value();
    } else {
      nodes_.push_back(std::move(child).value());
    }
    return ok();
  }

  std::unique_ptr<farm::coordinator> coordinator_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::vector<child_process> nodes_;
  std::string join_;
  fs::path media_;
  fs::path data_;
  std::string backend_;
  int threads_ = 1;
};

std::string format_eta(double seconds) {
  if (seconds < 0 || seconds > 359999) {
    return "--:--";
  }
  int s = static_cast<int>(seconds + 0.5);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%d:%02d", s / 60, s % 60);
  return buf;
}

/// Draws progress: a bar redrawn in place on a terminal, a line per change otherwise.
class progress_printer {
 public:
  progress_printer() : tty_(::isatty(STDOUT_FILENO) != 0), start_(steady::now()) {}

  void show(const actors::job_view& v) {
    double elapsed = std::chrono::duration<double>(steady::now() - start_).count();
    bool changed = v.shots_done != last_done_ || v.step != last_step_ || v.percent != last_percent_;
    if (tty_ && !changed && elapsed - last_draw_ < 0.2) {
      return;
    }
    last_draw_ = elapsed;
    last_percent_ = v.percent;
    if (v.ms_done > 0 && first_done_ms_ < 0) {
      first_done_ms_ = v.ms_done;
      first_done_at_ = elapsed;
    }
    double eta = -1;
    if (v.ms_total > 0 && v.ms_done > first_done_ms_ && first_done_ms_ >= 0) {
      double rate = (v.ms_done - first_done_ms_) / std::max(0.001, elapsed - first_done_at_);
      eta = (v.ms_total - v.ms_done) / rate;
    }
    if (tty_) {
      int width = 28;
      int filled = v.percent * width / 100;
      std::printf("\r\033[K[%s%s] %3d%%  shots %d/%d  ETA %s  %s", std::string(filled, '#').c_str(),
                  std::string(width - filled, '.').c_str(), v.percent, v.shots_done, v.shots_total,
                  format_eta(eta).c_str(), v.step.c_str());
      std::fflush(stdout);
    } else if (v.shots_done != last_done_ || v.step != last_step_) {
      std::printf("progress %3d%%  shots %d/%d  ETA %s  %s\n", v.percent, v.shots_done,
                  v.shots_total, format_eta(eta).c_str(), v.step.c_str());
      std::fflush(stdout);
    }
    last_done_ = v.shots_done;
    last_step_ = v.step;
  }

  void end_line() {
    if (tty_) {
      std::printf("\n");
    }
  }

 private:
  bool tty_;
  steady::time_point start_;
  std::int64_t first_done_ms_ = -1;
  double first_done_at_ = 0;
  int last_done_ = -1;
  int last_percent_ = -1;
  double last_draw_ = -1;
  std::string last_step_;
};

// Copies the film's files out of the media folder into --out.
result<std::vector<fs::path>> export_film(const fs::path& media, const job_record& job,
                                          const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out, ec);
  auto final_dir = media / "users" / job.user_id / "projects" / job.project_id / "final";
  std::vector<fs::path> written;
  for (const char* name : {"film.mp4", "film.srt", "film.vtt", "thumbnail.jpg", "manifest.json"}) {
    fs::copy_file(final_dir / name, out / name, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      return error(common_errc::io, "cannot copy " + (final_dir / name).string() + " to " +
                                        out.string() + ": " + ec.message());
    }
    written.push_back(out / name);
  }
  return written;
}

int report(const actors::job_view& v, const job_record& job, const fs::path& media,
           const render_args& args, credit_ledger& ledger, double seconds) {
  if (v.status != "complete") {
    std::fprintf(stderr, "reelfarm render: the render %s: %s\n", v.status.c_str(),
                 v.error.empty() ? v.step.c_str() : v.error.c_str());
    if (v.status == "failed" && v.cost_credits > 0) {
      std::fprintf(stderr, "  %lld credits were refunded.\n",
                   static_cast<long long>(v.cost_credits));
    }
    return exit_failure;
  }
  auto files = export_film(media, job, args.out);
  if (!files) {
    std::fprintf(stderr, "reelfarm render: %s\n", files.error().message().c_str());
    return exit_failure;
  }
  auto balance = ledger.balance(job.user_id);
  std::printf("Rendered \"%s\": %d shots in %.1f s on %d node%s.\n", job.title.c_str(),
              v.shots_total, seconds, args.nodes, args.nodes == 1 ? "" : "s");
  for (const auto& f : *files) {
    std::printf("  %s\n", f.string().c_str());
  }
  std::printf("Cost: %lld credits (plan %s; balance now %lld).\n",
              static_cast<long long>(v.cost_credits), args.plan.c_str(),
              static_cast<long long>(balance ? *balance : -1));
  return exit_ok;
}

struct render_run {
  const render_args& args;
  const config& cfg;
  store_services& services;
  fs::path data;
};

int run_render(render_run& run, const std::string& script) {
  pg_pool pool(run.services.postgres_dsn(), 4);
  credit_ledger ledger(pool, plan_catalog::defaults());
  if (!ledger.plans().find(run.args.plan)) {
    std::fprintf(stderr, "reelfarm render: %s\n",
                 ledger.plans().get(run.args.plan).error().message().c_str());
    return exit_usage;
  }
  auto user = local_account(pool, ledger, run.args.plan);
  if (!user) {
    std::fprintf(stderr, "reelfarm render: local account: %s\n", user.error().message().c_str());
    return exit_failure;
  }
  job_repository jobs(pool);
  auto media = run.data / "media";
  actors::job_context ctx{
      &jobs, ledger.plans(), run.cfg.planner, media,
      actors::generation_prices{run.cfg.planner.t2v_credits, run.cfg.planner.i2v_credits}};
  // The screenplay casts itself: rendering the same file again makes the same film.
  nlohmann::json settings_doc = {{"seed", actors::screenplay_seed(script)}};
  if (!run.args.resolution.empty()) {
    settings_doc["resolution"] = run.args.resolution;
  }
  const std::string settings = settings_doc.dump();
  auto doc = screenplay::parse_fountain(script);
  auto title = doc && !doc->title().empty() ? doc->title() : run.args.file.stem().string();
  auto job = job_for(jobs, *user, title, script, settings);
  if (!job) {
    std::fprintf(stderr, "reelfarm render: %s\n", job.error().message().c_str());
    return exit_failure;
  }
  if (job->status == "processing") {
    std::printf("Resuming the interrupted render (job %s).\n", job->id.c_str());
  }
  auto granted = top_up_if_short(ledger, *user, ctx, *job);
  if (granted && *granted > 0) {
    std::printf("Granted %lld credits to the local account (plan %s) to cover this film.\n",
                static_cast<long long>(*granted), run.args.plan.c_str());
  }
  local_farm farm;
  if (auto started = farm.start(run.cfg, run.services.postgres_dsn(), run.data, media, run.args);
      !started) {
    std::fprintf(stderr, "reelfarm render: %s\n", started.error().message().c_str());
    return exit_failure;
  }
  auto service =
      actors::render_service::create({ctx, farm.coordinator(), run.services.redis_url()});
  if (!service) {
    std::fprintf(stderr, "reelfarm render: %s\n", service.error().message().c_str());
    return exit_failure;
  }
  (void)(*service)->run(job->id);
  progress_printer printer;
  auto started_at = steady::now();
  actors::job_view last;
  while (!signals::stop_requested()) {
    auto v = (*service)->view(job->id);
    if (v) {
      last = *v;
      printer.show(last);
      if (last.finished()) {
        break;
      }
    }
    farm.keep_nodes_alive();
    // Short: the film is complete the moment the view says so, and the
    // command should not sit on it (the bar redraws at most 5 times a second).
    std::this_thread::sleep_for(20ms);
  }
  printer.end_line();
  double seconds = std::chrono::duration<double>(steady::now() - started_at).count();
  service->reset();
  farm.stop();
  if (!last.finished()) {
    std::fprintf(stderr,
                 "reelfarm render: interrupted; run the same command again to resume "
                 "(finished shots are kept, nothing is charged twice)\n");
    return exit_failure;
  }
  auto final_job = jobs.get(job->id);
  return report(last, final_job ? *final_job : *job, media, run.args, ledger, seconds);
}

}  // namespace

int cmd_render(const std::vector<std::string>& args, const global_options& options) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    print_usage(stdout);
    return exit_ok;
  }
  auto parsed = parse_args(args);
  if (!parsed) {
    print_usage(stderr);
    return exit_usage;
  }
  auto script = read_file(parsed->file);
  if (script.empty()) {
    std::fprintf(stderr, "reelfarm render: cannot read %s (or it is empty)\n",
                 parsed->file.string().c_str());
    return exit_failure;
  }
  // The progress bar is the output; farm chatter only when asked for.
  auto quiet = options;
  bool level_given = std::any_of(options.overrides.begin(), options.overrides.end(),
                                 [](const auto& o) { return o.starts_with("log.level="); });
  if (!level_given) {
    quiet.overrides.insert(quiet.overrides.begin(), "log.level=warn");
  }
  auto cfg = load_configuration(quiet);
  if (!cfg) {
    return exit_usage;
  }
  signals::install_stop_handlers();
  auto services = store_services::open(*cfg);
  if (!services) {
    std::fprintf(stderr, "reelfarm render: %s\n", services.error().message().c_str());
    return exit_failure;
  }
  fs::path data =
      cfg->embedded.data_dir.empty() ? default_data_dir() : fs::path(cfg->embedded.data_dir);
  render_run run{*parsed, *cfg, **services, data};
  int rc = run_render(run, script);
  (void)(*services)->stop();
  return rc;
}

}  // namespace reelfarm::app
