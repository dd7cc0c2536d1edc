#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// A fixed-size pool of PostgreSQL connections shared by threads. Connections
/// are opened on demand; one that broke is dropped when handed back (the
/// borrower calls `discard()`), an idle one the server closed is dropped
/// before it is handed out, and the next borrower opens a fresh one, so a
/// restarted server heals the pool without anyone restarting it.
class pg_pool {
 public:
  /// A borrowed connection; it goes back to the pool on destruction.
  class lease {
   public:
    lease(lease&& other) noexcept;
    lease& operator=(lease&&) = delete;
    ~lease();
    pqxx::connection& operator*() const noexcept { return *conn_; }
    pqxx::connection* operator->() const noexcept { return conn_.get(); }
    /// Closes the connection instead of returning it (it broke or is in doubt).
    void discard() noexcept { conn_.reset(); }

   private:
    friend class pg_pool;
    lease(pg_pool* pool, std::unique_ptr<pqxx::connection> conn, std::uint64_t generation)
        : pool_(pool), conn_(std::move(conn)), generation_(generation) {}
    pg_pool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
    std::uint64_t generation_;
  };

  /// A pool of at most `size` connections (postgres.pool_size) to `dsn`.
  pg_pool(std::string dsn, std::size_t size);
  pg_pool(const pg_pool&) = delete;
  pg_pool& operator=(const pg_pool&) = delete;

  /// Waits up to `wait` for a free slot, then hands out an open connection.
  result<lease> acquire(std::chrono::milliseconds wait = std::chrono::seconds(30));

  /// Points the pool at another server (the same database restarted on
  /// another port, a fail-over): idle connections are closed, connections
  /// in use are dropped when handed back, new ones go to `dsn`.
  void set_dsn(std::string dsn);
  /// The server connections go to.
  std::string dsn() const;
  std::size_t size() const noexcept { return size_; }

 private:
  void give_back(std::unique_ptr<pqxx::connection> conn, std::uint64_t generation) noexcept;
  std::string dsn_;
  std::size_t size_;
  mutable std::mutex mutex_;
  std::uint64_t generation_ = 0;  ///< bumped by set_dsn
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t in_use_ = 0;
};

}  // namespace reelfarm
