#pragma once

// Internal: the answers of GET /api/v1/jobs/{id}, kept briefly in memory.
// Followers poll a job several times a second; a running job's row changes
// at most a few times a second and a finished one never, so a short cache
// turns most polls into a lookup without PostgreSQL (docs/api.md).

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace reelfarm::gateway {

class job_status_cache {
 public:
  using clock = std::chrono::steady_clock;

  /// What the route answers for a job, and who may see it.
  struct entry {
    std::string owner;  ///< user id
    std::string body;   ///< the JSON answer
    bool finished = false;
    clock::time_point fetched;
  };

  using entry_ptr = std::shared_ptr<const entry>;

  /// The entry when still fresh: running jobs for `running_ttl`, finished
  /// ones for `finished_ttl`. Shared, not copied: this is the hot path.
  entry_ptr get(const std::string& job_id, clock::time_point now) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(job_id);
    if (it == entries_.end() || !is_fresh(*it->second, now)) {
      return nullptr;
    }
    return it->second;
  }

  /// True when a fresh entry exists (the route then needs no blocking thread).
  bool fresh(const std::string& job_id, clock::time_point now) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(job_id);
    return it != entries_.end() && is_fresh(*it->second, now);
  }

  void put(const std::string& job_id, entry e) {
    auto shared = std::make_shared<const entry>(std::move(e));
    std::lock_guard lock(mutex_);
    if (entries_.size() >= max_entries) {
      entries_.clear();  // bounded; a miss only costs one query
    }
    entries_[job_id] = std::move(shared);
  }

  /// Forgets a job whose state the gateway itself just changed (cancel).
  void forget(const std::string& job_id) {
    std::lock_guard lock(mutex_);
    entries_.erase(job_id);
  }

  static constexpr std::chrono::milliseconds running_ttl{500};
  static constexpr std::chrono::milliseconds finished_ttl{60'000};
  static constexpr std::size_t max_entries = 65'536;

 private:
  static bool is_fresh(const entry& e, clock::time_point now) {
    return now - e.fetched <= (e.finished ? finished_ttl : running_ttl);
  }

  mutable std::mutex mutex_;
  std::unordered_map<std::string, entry_ptr> entries_;
};

}  // namespace reelfarm::gateway
