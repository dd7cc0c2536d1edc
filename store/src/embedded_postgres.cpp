#include "reelfarm/store/embedded_postgres.hpp"

#include <libpq-fe.h>

#include <csignal>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "embedded_support.hpp"
#include "reelfarm/common/errc.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/common/net.hpp"
#include "reelfarm/common/signals.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* user_name = "reelfarm";
constexpr const char* database_name = "reelfarm";

fs::path cluster_dir(const embedded_options& o) {
  return o.data_dir / "postgres";
}
fs::path log_file(const embedded_options& o) {
  return o.data_dir / "log" / "postgres.log";
}
// Written once initdb and our settings are complete: a cluster without it is
// the remains of an interrupted first start and holds no data yet.
fs::path initialized_marker(const embedded_options& o) {
  return o.data_dir / "run" / "postgres.initialized";
}

std::string settings_file(bool durable) {
  std::string text =
      "# Written by reelfarm; changes are overwritten at start-up.\n"
      "listen_addresses = '127.0.0.1'\n"
      "unix_socket_directories = ''\n"
      "max_connections = 300\n"
      "shared_buffers = '128MB'\n"
      "logging_collector = off\n"
      "log_min_messages = warning\n"
      "log_line_prefix = '%m [%p] '\n";
  if (!durable) {
    text += "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
  }
  return text;
}

result<void> run_initdb(const embedded_options& options, const std::string& password) {
  auto cluster = cluster_dir(options);
  std::error_code ec;
  fs::remove_all(cluster, ec);
  if (auto r = ensure_directory(cluster, 0700, options.run_as); !r) {
    return r;
  }
  // initdb reads the password from a file the server account can read; it
  // lives only for the duration of initdb.
  auto pwfile = options.data_dir / "run" / "initdb.pw";
  if (auto r = write_file_atomically(pwfile, password + "\n", 0600, options.run_as); !r) {
    return r;
  }
  process_options p;
  p.argv = {options.postgres_bin_dir + "/initdb",
            "-D",
            cluster.string(),
            "-U",
            user_name,
            "--pwfile=" + pwfile.string(),
            "--auth-host=scram-sha-256",
            "--auth-local=peer",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-instructions"};
  p.run_as = options.run_as;
  p.output_file = log_file(options).string();
  p.working_dir = options.data_dir.string();
  log::info("store", "initialising the embedded PostgreSQL cluster", {{"dir", cluster.string()}});
  auto status = run_program(p, options.start_timeout * 2);
  fs::remove(pwfile, ec);
  if (!status) {
    return std::move(status).error();
  }
  if (*status != 0) {
    return error(store_errc::server_start,
                 "initdb failed with status " + std::to_string(*status) +
                     "; its output:" + embedded::log_tail(log_file(options)));
  }
  std::ofstream conf(cluster / "postgresql.conf", std::ios::app);
  conf << "\ninclude_if_exists = 'reelfarm.conf'\n";
  if (!conf) {
    return error(store_errc::server_start,
                 "cannot extend " + (cluster / "postgresql.conf").string());
  }
  conf.close();
  return write_file_atomically(initialized_marker(options), "1\n", 0644);
}

// True when the cluster's postmaster.pid names our server, listening on our
// port and ready: then what answers on that port is ours, not a server that
// took the port between our probe and our start.
bool ours_and_ready(const embedded_options& options, pid_t pid, int port) {
  std::ifstream in(cluster_dir(options) / "postmaster.pid");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    auto end = line.find_last_not_of(" \t\r");
    auto begin = line.find_first_not_of(" \t");
    lines.push_back(end == std::string::npos ? "" : line.substr(begin, end - begin + 1));
  }
  // Lines: 1 pid, 4 port, 8 status (PostgreSQL 10 and later).
  return lines.size() >= 8 && lines[0] == std::to_string(pid) && lines[3] == std::to_string(port) &&
         lines[7] == "ready";
}

// Polls until our server accepts connections, the process dies, the timeout
// passes or a stop is requested.
result<void> wait_until_ready(child_process& process, const embedded_options& options, int port) {
  auto probe = "host=127.0.0.1 port=" + std::to_string(port) + " dbname=postgres connect_timeout=2";
  auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  auto step = 10ms;
  while (true) {
    if (ours_and_ready(options, process.pid(), port) && PQping(probe.c_str()) == PQPING_OK) {
      return ok();
    }
    if (!process.running()) {
      return error(store_errc::server_start,
                   "PostgreSQL exited during start-up with status " +
                       std::to_string(process.exit_status().value_or(-1)) + "; its log (" +
                       log_file(options).string() +
                       ") ends with:" + embedded::log_tail(log_file(options)));
    }
    if (signals::stop_requested()) {
      return error(common_errc::interrupted, "interrupted while PostgreSQL was starting");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return error(store_errc::server_start,
                   "PostgreSQL did not answer on port " + std::to_string(port) + " within " +
                       format_duration(options.start_timeout) +
                       "; its log ends with:" + embedded::log_tail(log_file(options)));
    }
    std::this_thread::sleep_for(step);
    step = std::min(step * 2, std::chrono::milliseconds(100));
  }
}

using pg_connection = std::unique_ptr<PGconn, decltype(&PQfinish)>;

result<std::string> query_one(PGconn* conn, const char* sql) {
  std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn, sql), &PQclear);
  auto status = PQresultStatus(res.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return error(store_errc::query, std::string(sql) + ": " + PQerrorMessage(conn));
  }
  if (status == PGRES_TUPLES_OK && PQntuples(res.get()) > 0) {
    return std::string(PQgetvalue(res.get(), 0, 0));
  }
  return std::string();
}

// Creates the application database on first start; returns the server version.
result<std::string> prepare_database(int port, const std::string& password) {
  auto dsn = "host=127.0.0.1 port=" + std::to_string(port) + " dbname=postgres user=" + user_name +
             " password=" + password + " connect_timeout=5";
  pg_connection conn(PQconnectdb(dsn.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return error(
        store_errc::connection,
        std::string("cannot connect to the embedded PostgreSQL: ") + PQerrorMessage(conn.get()));
  }
  auto exists = query_one(conn.get(), "SELECT 1 FROM pg_database WHERE datname = 'reelfarm'");
  if (!exists) {
    return std::move(exists).error();
  }
  if (exists->empty()) {
    if (auto r = query_one(conn.get(), "CREATE DATABASE reelfarm"); !r) {
      return std::move(r).error();
    }
  }
  return query_one(conn.get(), "SHOW server_version");
}

}  // namespace

result<embedded_postgres> embedded_postgres::start(const embedded_options& options) {
  auto cluster = cluster_dir(options);
  for (auto [dir, mode] :
       {std::pair{options.data_dir / "log", 0755}, std::pair{options.data_dir / "run", 0755}}) {
    if (auto r = ensure_directory(dir, static_cast<mode_t>(mode)); !r) {
      return std::move(r).error();
    }
  }
  // The log must be writable by the server account.
  { std::ofstream touch(log_file(options), std::ios::app); }
  if (options.run_as) {
    if (chown(log_file(options).c_str(), options.run_as->uid, options.run_as->gid) != 0) {
      return error(store_errc::data_dir,
                   "cannot hand " + log_file(options).string() + " to " + options.run_as->name);
    }
  }
  if (auto r = stop_leftover(options); !r) {
    return std::move(r).error();
  }
  auto password = embedded::stored_secret(options.data_dir, "postgres.password");
  if (!password) {
    return std::move(password).error();
  }
  embedded_postgres server;
  server.options_ = options;
  if (!fs::exists(initialized_marker(options)) || !fs::exists(cluster / "PG_VERSION")) {
    if (auto r = run_initdb(options, *password); !r) {
      return std::move(r).error();
    }
    server.endpoint_.initialized = true;
  }
  if (auto r = write_file_atomically(cluster / "reelfarm.conf", settings_file(options.durable),
                                     0600, options.run_as);
      !r) {
    return std::move(r).error();
  }
  auto port = server.launch();
  if (!port) {
    return std::move(port).error();
  }
  auto version = prepare_database(*port, *password);
  if (!version) {
    (void)server.stop();
    return std::move(version).error();
  }
  embedded::remember_port(options.data_dir, "postgres", *port);
  server.endpoint_.port = *port;
  server.endpoint_.pid = server.process_.pid();
  server.endpoint_.version = *version;
  server.endpoint_.address = "host=127.0.0.1 port=" + std::to_string(*port) +
                             " dbname=" + database_name + " user=" + user_name +
                             " password=" + *password;
  log::info("store", "embedded PostgreSQL is ready",
            {{"port", *port}, {"pid", server.endpoint_.pid}, {"version", *version}});
  return server;
}

result<int> embedded_postgres::launch() {
  // The last start's port first, as it is: the server's own bind is the
  // test, and a taken port costs one more attempt.
  int preferred = embedded::remembered_port(options_.data_dir, "postgres");
  for (int attempt = 1;; ++attempt) {
    auto port = attempt == 1 && preferred > 0 ? result<int>(preferred) : free_loopback_port();
    if (!port) {
      return std::move(port).error();
    }
    process_options p;
    p.argv = {options_.postgres_bin_dir + "/postgres", "-D", cluster_dir(options_).string(), "-p",
              std::to_string(*port)};
    p.run_as = options_.run_as;
    p.output_file = log_file(options_).string();
    p.working_dir = options_.data_dir.string();
    p.die_with_parent = !options_.detach;
    p.death_signal = SIGINT;  // fast shutdown: our connections died with us
    auto log_from = embedded::log_size(log_file(options_));
    auto child = child_process::spawn(p);
    if (!child) {
      return std::move(child).error();
    }
    process_ = std::move(child).value();
    auto ready = wait_until_ready(process_, options_, *port);
    if (ready) {
      return *port;
    }
    (void)stop();
    if (attempt == embedded::port_attempts ||
        !embedded::port_was_taken(log_file(options_), log_from)) {
      return std::move(ready).error();
    }
    log::warn("store", "the port chosen for PostgreSQL was taken meanwhile; choosing another",
              {{"port", *port}, {"attempt", attempt}});
  }
}

embedded_postgres::~embedded_postgres() {
  if (!detached_ && process_.pid() > 0) {
    (void)stop();
  }
}

result<void> embedded_postgres::stop() {
  if (detached_ || !process_.running()) {
    return ok();
  }
  auto pid = process_.pid();
  process_.signal(SIGINT);
  if (!process_.wait_for(options_.stop_timeout)) {
    log::warn("store", "PostgreSQL did not stop in time; forcing it", {{"pid", pid}});
    process_.signal(SIGQUIT);
    if (!process_.wait_for(5s)) {
      process_.signal(SIGKILL);
      process_.wait_for(5s);
    }
  }
  if (process_.running()) {
    return error(store_errc::server_stop,
                 "PostgreSQL (pid " + std::to_string(pid) + ") did not stop");
  }
  log::info("store", "embedded PostgreSQL stopped", {{"pid", pid}});
  return ok();
}

void embedded_postgres::detach() noexcept {
  detached_ = true;
  process_.release();
}

result<void> embedded_postgres::stop_leftover(const embedded_options& options) {
  return embedded::stop_by_pid_file(cluster_dir(options) / "postmaster.pid", "postgres", SIGINT,
                                    options.stop_timeout);
}

}  // namespace reelfarm
