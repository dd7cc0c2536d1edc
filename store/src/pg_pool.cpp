#include "reelfarm/store/pg_pool.hpp"

#include <poll.h>

#include "reelfarm/common/log.hpp"
#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/postgres.hpp"

namespace reelfarm {

namespace {

// An idle connection has nothing to say: the server speaks only when asked.
// A readable or hung-up socket means the server ended the session (it sends
// FATAL and closes when a backend is terminated, or it restarted), so the
// connection is dropped here instead of costing the borrower a failed
// statement. The check is one poll() with no wait and no round trip; a
// connection that dies after it is the borrower's retry to handle.
bool still_usable(const pqxx::connection& conn) {
  if (!conn.is_open()) {
    return false;
  }
  pollfd fd{};
  fd.fd = conn.sock();
  fd.events = POLLIN;
  if (fd.fd < 0) {
    return false;
  }
  return ::poll(&fd, 1, 0) == 0;
}

}  // namespace

pg_pool::lease::lease(lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), generation_(other.generation_) {
  other.pool_ = nullptr;
}

pg_pool::lease::~lease() {
  if (pool_ != nullptr) {
    pool_->give_back(std::move(conn_), generation_);
  }
}

pg_pool::pg_pool(std::string dsn, std::size_t size)
    : dsn_(std::move(dsn)), size_(size == 0 ? 1 : size) {}

result<pg_pool::lease> pg_pool::acquire(std::chrono::milliseconds wait) {
  std::unique_ptr<pqxx::connection> conn;
  std::vector<std::unique_ptr<pqxx::connection>> closing;
  std::string dsn;
  std::uint64_t generation = 0;
  {
    std::unique_lock lock(mutex_);
    if (!freed_.wait_for(lock, wait, [&] { return in_use_ < size_; })) {
      return error(store_errc::connection, "no PostgreSQL connection became free within " +
                                               std::to_string(wait.count()) + " ms (pool of " +
                                               std::to_string(size_) + ")");
    }
    ++in_use_;
    dsn = dsn_;
    generation = generation_;
    while (!idle_.empty() && !conn) {
      conn = std::move(idle_.back());
      idle_.pop_back();
      if (!still_usable(*conn)) {
        closing.push_back(std::move(conn));
      }
    }
  }
  closing.clear();  // closed outside the lock
  if (conn) {
    return lease(this, std::move(conn), generation);
  }
  // Opening happens outside the lock: a slow or dead server must not block
  // threads that hold healthy idle connections.
  auto opened = connect_postgres(dsn);
  if (!opened) {
    give_back(nullptr, generation);
    return opened.error();
  }
  return lease(this, std::move(opened).value(), generation);
}

void pg_pool::set_dsn(std::string dsn) {
  std::vector<std::unique_ptr<pqxx::connection>> closing;
  {
    std::lock_guard lock(mutex_);
    dsn_ = std::move(dsn);
    ++generation_;
    closing.swap(idle_);
  }
  // closing's connections are closed here, outside the lock.
}

std::string pg_pool::dsn() const {
  std::lock_guard lock(mutex_);
  return dsn_;
}

void pg_pool::give_back(std::unique_ptr<pqxx::connection> conn, std::uint64_t generation) noexcept {
  {
    std::lock_guard lock(mutex_);
    --in_use_;
    if (conn && conn->is_open() && generation == generation_) {
      idle_.push_back(std::move(conn));
    }
  }
  freed_.notify_one();
}

}  // namespace reelfarm
