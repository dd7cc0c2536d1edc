#pragma once

#include <cstdint>

#include "reelfarm/common/result.hpp"

namespace reelfarm::farm {

/// Where fencing epochs come from. The lease manager reserves them in
/// blocks; the PostgreSQL allocator persists each reservation before any of
/// its epochs is used, so a restarted coordinator never hands out an epoch
/// again (it may skip the unused rest of a block, which is harmless).
class epoch_allocator {
 public:
  virtual ~epoch_allocator() = default;
  /// Reserves `count` consecutive epochs and returns the first.
  virtual result<std::uint64_t> reserve(std::uint64_t count) = 0;
};

/// Epochs kept in memory only: for tests and the benchmark.
class memory_epoch_allocator final : public epoch_allocator {
 public:
  explicit memory_epoch_allocator(std::uint64_t first = 1) : next_(first) {}
  result<std::uint64_t> reserve(std::uint64_t count) override {
    auto first = next_;
    next_ += count;
    return first;
  }

 private:
  std::uint64_t next_;
};

}  // namespace reelfarm::farm
