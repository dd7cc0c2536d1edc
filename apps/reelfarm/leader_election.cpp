#include "leader_election.hpp"

#include <pqxx/pqxx>

#include "reelfarm/common/errc.hpp"
#include "reelfarm/common/log.hpp"

namespace reelfarm::app {

namespace {

// libpq's client-side settings: keepalive probes after 5 s idle, every 2 s,
// 3 missed ones end the connection; unacknowledged data ends it after 5 s.
constexpr const char* keepalive_params[][2] = {
    {"keepalives", "1"},       {"keepalives_idle", "5"},     {"keepalives_interval", "2"},
    {"keepalives_count", "3"}, {"tcp_user_timeout", "5000"}, {"connect_timeout", "5"}};

}  // namespace

struct leader_election::session {
  explicit session(const std::string& dsn) : conn(dsn) {}
  pqxx::connection conn;
};

leader_election::leader_election(std::string dsn) : dsn_(std::move(dsn)) {}

leader_election::~leader_election() {
  stop_watching();
  release();
}

std::string leader_election::with_keepalives(const std::string& dsn) {
  bool uri = dsn.starts_with("postgres://") || dsn.starts_with("postgresql://");
  std::string out = dsn;
  for (const auto& [key, value] : keepalive_params) {
    if (dsn.find(std::string(key) + "=") != std::string::npos) {
      continue;  // the operator's own setting wins
    }
    if (uri) {
      out += (out.find('?') == std::string::npos ? "?" : "&");
    } else {
      out += ' ';
    }
    out += std::string(key) + "=" + value;
  }
  return out;
}

void leader_election::release() noexcept {
  leading_ = false;
  try {
    conn_.reset();  // closing the session releases the lock
  } catch (...) {
  }
}

result<bool> leader_election::try_acquire() {
  try {
    if (!conn_ || !conn_->conn.is_open()) {
      conn_ = std::make_unique<session>(with_keepalives(dsn_));
      // The server's side of the same: PostgreSQL ends a session whose
      // client vanished (a partition, a dead host) within about 11 s, which
      // is what frees the lock for a standby when the leader cannot close it.
      pqxx::nontransaction setup(conn_->conn);
      setup.exec0(
          "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; "
          "SET tcp_keepalives_count = 3; SET tcp_user_timeout = 5000; "
          "SET application_name = 'reelfarm coordinator (leader election)'");
    }
    pqxx::nontransaction tx(conn_->conn);
    bool won =
        tx.exec1("SELECT pg_try_advisory_lock(" + std::to_string(lock_key) + ")")[0].as<bool>();
    return won;
  } catch (const std::exception& e) {
    release();
    return error(common_errc::io, std::string("leader election: ") + e.what());
  }
}

bool leader_election::wait_to_lead(const std::function<bool()>& stopping,
                                   std::chrono::milliseconds poll) {
  bool said_standby = false;
  bool said_failing = false;
  while (!stopping()) {
    auto won = try_acquire();
    if (won && *won) {
      if (said_standby) {
        // The previous leader may be alive and not know yet that its session
        // ended (terminated by an operator, or cut off): it notices at its
        // next check, within `watch`'s period. Wait longer than that before
        // dispatching, so that two leaders never run jobs at once.
        log::info("serve", "standby: got the leader lock; waiting out the previous leader",
                  {{"grace_ms", takeover_grace.count()}});
        auto until = std::chrono::steady_clock::now() + takeover_grace;
        while (!stopping() && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (stopping()) {
          break;
        }
      }
      log::info("serve", "leader: this coordinator holds the leader lock",
                {{"lock_key", lock_key}});
      leading_ = true;
      return true;
    }
    if (!won && !said_failing) {
      log::warn("serve", "standby: cannot reach PostgreSQL for the leader lock; retrying",
                {{"error", won.error().message()}});
      said_failing = true;
    } else if (won && !said_standby) {
      log::info("serve", "standby: waiting for the leader",
                {{"lock_key", lock_key}, {"poll_ms", poll.count()}});
      said_standby = true;
    }
    if (won) {
      said_failing = false;
    }
    auto until = std::chrono::steady_clock::now() + poll;
    while (!stopping() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return false;
}

void leader_election::stop_watching() {
  stopping_ = true;
  if (watcher_.joinable()) {
    watcher_.join();
  }
}

void leader_election::watch(std::function<void()> on_lost, std::chrono::milliseconds every) {
  watcher_ = std::thread([this, on_lost = std::move(on_lost), every] {
    while (!stopping_) {
      auto until = std::chrono::steady_clock::now() + every;
      while (!stopping_ && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (stopping_) {
        return;
      }
      // A round trip on the lock's own session: if it answers, the session
      // (and with it the lock) is alive; tcp_user_timeout bounds the wait.
      std::string why;
      try {
        pqxx::nontransaction tx(conn_->conn);
        auto held = tx.exec1(
                          "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
                          "pid = pg_backend_pid() AND granted AND "
                          "((classid::bigint << 32) | objid::bigint) = " +
                          std::to_string(lock_key))[0]
                        .as<long long>();
        if (held > 0) {
          continue;
        }
        why = "the lock is no longer held by this session";
      } catch (const std::exception& e) {
        why = e.what();
      }
      leading_ = false;
      log::error("serve", "leader lock lost: stopping leading",
                 {{"error", why}, {"lock_key", lock_key}});
      release();
      on_lost();
      return;
    }
  });
}

}  // namespace reelfarm::app
