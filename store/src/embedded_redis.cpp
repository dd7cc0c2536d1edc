#include "reelfarm/store/embedded_redis.hpp"

#include <csignal>
#include <fstream>
#include <thread>

#include "embedded_support.hpp"
#include "reelfarm/common/errc.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/common/net.hpp"
#include "reelfarm/common/signals.hpp"
#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/redis_client.hpp"

namespace reelfarm {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

fs::path redis_dir(const embedded_options& o) {
  return o.data_dir / "redis";
}
fs::path pid_file(const embedded_options& o) {
  return redis_dir(o) / "redis.pid";
}
fs::path log_file(const embedded_options& o) {
  return o.data_dir / "log" / "redis.log";
}

std::string config_text(const embedded_options& options, int port, const std::string& password) {
  auto dir = redis_dir(options).string();
  std::string text =
      "# Written by reelfarm at every start.\n"
      "bind 127.0.0.1\n"
      "protected-mode yes\n"
      "port " +
      std::to_string(port) +
      "\n"
      "unixsocket \"\"\n"
      "daemonize no\n"
      "dir \"" +
      dir +
      "\"\n"
      "pidfile \"" +
      pid_file(options).string() +
      "\"\n"
      "logfile \"\"\n"
      "requirepass " +
      password +
      "\n"
      "maxclients 10000\n";
  if (options.durable) {
    text += "appendonly yes\nappendfsync everysec\nsave 300 1\n";
  } else {
    text += "appendonly no\nsave \"\"\n";
  }
  return text;
}

result<std::string> wait_until_ready(child_process& process, const embedded_options& options,
                                     const std::string& url) {
  auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  auto step = 5ms;
  std::string last_error;
  while (true) {
    if (auto client = redis_client::connect(url, 1s)) {
      auto pong = client->command({"PING"});
      if (pong && *pong == "PONG") {
        return client->server_info("redis_version");
      }
      last_error = pong ? *pong : pong.error().message();  // e.g. LOADING while reading the AOF
    } else {
      last_error = client.error().message();
    }
    if (!process.running()) {
      return error(store_errc::server_start,
                   "Redis exited during start-up with status " +
                       std::to_string(process.exit_status().value_or(-1)) + "; its log (" +
                       log_file(options).string() +
                       ") ends with:" + embedded::log_tail(log_file(options)));
    }
    if (signals::stop_requested()) {
      return error(common_errc::interrupted, "interrupted while Redis was starting");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return error(store_errc::server_start, "Redis did not answer within " +
                                                 format_duration(options.start_timeout) + ": " +
                                                 last_error);
    }
    std::this_thread::sleep_for(step);
    step = std::min(step * 2, std::chrono::milliseconds(100));
  }
}

}  // namespace

result<embedded_redis> embedded_redis::start(const embedded_options& options) {
  if (auto r = ensure_directory(redis_dir(options), 0700, options.run_as); !r) {
    return std::move(r).error();
  }
  if (auto r = ensure_directory(options.data_dir / "log", 0755); !r) {
    return std::move(r).error();
  }
  if (auto r = stop_leftover(options); !r) {
    return std::move(r).error();
  }
  auto password = embedded::stored_secret(options.data_dir, "redis.password");
  if (!password) {
    return std::move(password).error();
  }
  { std::ofstream touch(log_file(options), std::ios::app); }
  if (options.run_as &&
      chown(log_file(options).c_str(), options.run_as->uid, options.run_as->gid) != 0) {
    return error(store_errc::data_dir,
                 "cannot hand " + log_file(options).string() + " to " + options.run_as->name);
  }
  embedded_redis server;
  server.options_ = options;
  auto port = server.launch(*password);
  if (!port) {
    return std::move(port).error();
  }
  embedded::remember_port(options.data_dir, "redis", *port);
  log::info(
      "store", "embedded Redis is ready",
      {{"port", *port}, {"pid", server.endpoint_.pid}, {"version", server.endpoint_.version}});
  return server;
}

result<int> embedded_redis::launch(const std::string& password) {
  // The last start's port first, as it is: the server's own bind is the
  // test, and a taken port costs one more attempt.
  int preferred = embedded::remembered_port(options_.data_dir, "redis");
  for (int attempt = 1;; ++attempt) {
    auto port = attempt == 1 && preferred > 0 ? result<int>(preferred) : free_loopback_port();
    if (!port) {
      return std::move(port).error();
    }
    auto conf = redis_dir(options_) / "redis.conf";
    if (auto r = write_file_atomically(conf, config_text(options_, *port, password), 0600,
                                       options_.run_as);
        !r) {
      return std::move(r).error();
    }
    process_options p;
    p.argv = {options_.redis_server, conf.string()};
    p.run_as = options_.run_as;
    p.output_file = log_file(options_).string();
    p.working_dir = redis_dir(options_).string();
    p.die_with_parent = !options_.detach;
    p.death_signal = SIGTERM;
    auto log_from = embedded::log_size(log_file(options_));
    auto child = child_process::spawn(p);
    if (!child) {
      return std::move(child).error();
    }
    process_ = std::move(child).value();
    auto url = "redis://:" + password + "@127.0.0.1:" + std::to_string(*port) + "/0";
    auto version = wait_until_ready(process_, options_, url);
    if (version) {
      endpoint_ = {url, *port, process_.pid(), *version, false};
      return *port;
    }
    (void)stop();
    if (attempt == embedded::port_attempts ||
        !embedded::port_was_taken(log_file(options_), log_from)) {
      return std::move(version).error();
    }
    log::warn("store", "the port chosen for Redis was taken meanwhile; choosing another",
              {{"port", *port}, {"attempt", attempt}});
  }
}

embedded_redis::~embedded_redis() {
  if (!detached_ && process_.pid() > 0) {
    (void)stop();
  }
}

result<void> embedded_redis::stop() {
  if (detached_ || !process_.running()) {
    return ok();
  }
  auto pid = process_.pid();
  process_.signal(SIGTERM);
  if (!process_.wait_for(options_.stop_timeout)) {
    log::warn("store", "Redis did not stop in time; killing it", {{"pid", pid}});
    process_.signal(SIGKILL);
    process_.wait_for(5s);
  }
  if (process_.running()) {
    return error(store_errc::server_stop, "Redis (pid " + std::to_string(pid) + ") did not stop");
  }
  log::info("store", "embedded Redis stopped", {{"pid", pid}});
  return ok();
}

void embedded_redis::detach() noexcept {
  detached_ = true;
  process_.release();
}

result<void> embedded_redis::stop_leftover(const embedded_options& options) {
  return embedded::stop_by_pid_file(pid_file(options), "redis-server", SIGTERM,
                                    options.stop_timeout);
}

}  // namespace reelfarm
