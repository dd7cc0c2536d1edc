// reelfarm_ledger_bench: ledger operations per second with N clients, and
// pgbench's built-in tpcb-like script with the same clients on the same
// server in the same run; prints both and their ratio (goal: >= 0.5).
//
//   reelfarm_ledger_bench [--seconds N] [--clients N] [--accounts N] [--dsn DSN]
//                         [--redis URL] [--pgbench PATH]
//
// Without --dsn it starts a private, durable embedded PostgreSQL and Redis in
// a temporary folder. With --dsn, pgbench creates its pgbench_* tables in
// that database (pgbench -i drops and recreates them).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <pqxx/pqxx>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "reelfarm/common/log.hpp"
#include "reelfarm/store/balance_cache.hpp"
#include "reelfarm/store/credit_ledger.hpp"
#include "reelfarm/store/embedded_services.hpp"
#include "reelfarm/store/migrations.hpp"

using namespace reelfarm;

namespace {

struct bench_options {
  int seconds = 10;
  int clients = 16;
  int accounts = 1000;
  std::string dsn;
  std::string redis;
  std::string pgbench = "/usr/lib/postgresql/15/bin/pgbench";
};

bench_options parse_args(int argc, char** argv) {
  bench_options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    std::string value = argv[i + 1];
    if (key == "--seconds") {
      o.seconds = std::stoi(value);
    } else if (key == "--clients") {
      o.clients = std::stoi(value);
    } else if (key == "--accounts") {
      o.accounts = std::stoi(value);
    } else if (key == "--dsn") {
      o.dsn = value;
    } else if (key == "--redis") {
      o.redis = value;
    } else if (key == "--pgbench") {
      o.pgbench = value;
    } else {
      throw std::invalid_argument("unknown option " + key);
    }
  }
  return o;
}

std::vector<std::string> make_accounts(credit_ledger& ledger, const std::string& dsn, int n) {
  std::vector<std::string> ids;
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  for (const auto& row :
       tx.exec_params("INSERT INTO users (email, password_hash) SELECT 'bench-' || g || '-' || "
                      "gen_random_uuid() || '@example.com', 'x' FROM generate_series(1, $1) g "
                      "RETURNING id::text",
                      n)) {
    ids.push_back(row[0].as<std::string>());
  }
  tx.commit();
  for (const auto& id : ids) {
    // Enough credits that no charge is refused: the benchmark measures writes.
    if (!ledger.grant(id, 1'000'000'000, "benchmark", "bench-open")) {
      throw std::runtime_error("cannot open the benchmark accounts");
    }
  }
  return ids;
}

// One client: charges (new job each), refunds of its own earlier charges and
// grants, in the proportions a farm sees (every job charged, some failing).
void client(credit_ledger& ledger, const std::vector<std::string>& users, int id,
            const std::atomic<bool>& stop, std::atomic<long>& ops, std::atomic<long>& errors) {
  std::mt19937 rng(static_cast<unsigned>(id) + 17u);
  std::vector<std::pair<std::string, std::string>> charged;  // user, job
  auto tag = "b" + std::to_string(id) + "-" + std::to_string(::getpid()) + "-";
  for (long n = 0; !stop; ++n) {
    auto key = tag + std::to_string(n);
    auto roll = rng() % 100;
    bool ok = false;
    if (roll < 25 && !charged.empty()) {
      auto [user, job] = charged.back();
      charged.pop_back();
      ok = ledger.refund(user, job, "failed", "refund:" + job).has_value();
    } else if (roll < 75) {
      const auto& user = users[rng() % users.size()];
      auto job = "job-" + key;
      ok =
          ledger.charge(user, job, 3 * (1 + static_cast<int>(rng() % 5)), "render", "charge:" + job)
              .has_value();
      if (ok) {
        charged.emplace_back(user, job);
      }
    } else {
      ok = ledger
               .grant(users[rng() % users.size()], 1 + static_cast<int>(rng() % 10), "bonus",
                      "grant:" + key)
               .has_value();
    }
    ++(ok ? ops : errors);
  }
}

double run_ledger(credit_ledger& ledger, const std::vector<std::string>& users,
                  const bench_options& o, long& error_count) {
  std::atomic<bool> stop{false};
  std::atomic<long> ops{0};
  std::atomic<long> errors{0};
  std::vector<std::thread> threads;
  auto started = std::chrono::steady_clock::now();
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] { client(ledger, users, c, stop, ops, errors); });
  }
  std::this_thread::sleep_for(std::chrono::seconds(o.seconds));
  stop = true;
  for (auto& t : threads) {
    t.join();
  }
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  error_count = errors;
  return static_cast<double>(ops) / took.count();
}

std::string run_command(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    throw std::runtime_error("cannot run pgbench");
  }
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
    out += buffer;
  }
  if (::pclose(pipe) != 0) {
    throw std::runtime_error("pgbench failed:\n" + out);
  }
  return out;
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  }
  return out + "'";
}

double run_pgbench(const bench_options& o, const std::string& dsn) {
  run_command(o.pgbench + " -i -q -s 1 " + quoted(dsn));
  auto out = run_command(o.pgbench + " -c " + std::to_string(o.clients) + " -j 2 -T " +
                         std::to_string(o.seconds) + " " + quoted(dsn));
  std::smatch m;
  if (!std::regex_search(out, m, std::regex(R"(tps = ([0-9.]+) \(without initial)"))) {
    throw std::runtime_error("cannot read pgbench's tps from:\n" + out);
  }
  return std::stod(m[1]);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    auto o = parse_args(argc, argv);
    log::configure(log::level::warn, log::format::kv);
    std::unique_ptr<embedded_services> services;
    std::filesystem::path dir;
    if (o.dsn.empty()) {
      char tmpl[] = "/tmp/reelfarm-ledger-bench-XXXXXX";
      dir = ::mkdtemp(tmpl);
      std::filesystem::permissions(dir, std::filesystem::perms(0755));
      embedded_settings settings;
      settings.data_dir = dir.string();
      auto options = embedded_options_from(settings);
      if (!options) {
        throw std::runtime_error(options.error().full_text());
      }
      auto started = embedded_services::start(*options);
      if (!started) {
        throw std::runtime_error(started.error().full_text());
      }
      services = std::move(started).value();
      o.dsn = services->postgres().address;
      o.redis = services->redis().address;
    }
    {
      pqxx::connection conn(o.dsn);
      if (auto m = migrate(conn, bundled_migrations()); !m) {
        throw std::runtime_error(m.error().full_text());
      }
    }
    pg_pool pool(o.dsn, static_cast<std::size_t>(o.clients));
    std::unique_ptr<balance_cache> cache;
    if (!o.redis.empty()) {
      cache = std::make_unique<balance_cache>(o.redis);
    }
    credit_ledger ledger(pool, plan_catalog::defaults(), cache.get());
    auto users = make_accounts(ledger, o.dsn, o.accounts);

    long errors = 0;
    auto ledger_ops = run_ledger(ledger, users, o, errors);
    auto audit = ledger.audit();
    auto tps = run_pgbench(o, o.dsn);
    std::cout << "clients:            " << o.clients << "\n"
              << "seconds:            " << o.seconds << "\n"
              << "accounts:           " << o.accounts << "\n"
              << "ledger ops/s:       " << static_cast<long>(ledger_ops) << "\n"
              << "ledger errors:      " << errors << "\n"
              << "ledger consistent:  " << (audit && audit->consistent() ? "yes" : "NO") << "\n"
              << "pgbench tpcb tps:   " << static_cast<long>(tps) << "\n"
              << "ratio:              " << ledger_ops / tps << " (goal >= 0.5)\n";
    if (services) {
      (void)services->stop();
      std::filesystem::remove_all(dir);
    }
    return audit && audit->consistent() ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "reelfarm_ledger_bench: " << e.what() << "\n";
    return 2;
  }
}
