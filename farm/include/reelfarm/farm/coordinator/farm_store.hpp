#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/coordinator/epoch_allocator.hpp"
#include "reelfarm/farm/coordinator/farm_types.hpp"

namespace reelfarm::farm {

/// The farm's rows in PostgreSQL (migration 0003_farm.sql): nodes, leases
/// and the fencing-epoch counter. Used by the coordinator's loop thread only.
class farm_store final : public epoch_allocator {
 public:
  /// Connects; the schema must be migrated already (store_services does).
  static result<std::unique_ptr<farm_store>> open(const std::string& dsn);

  /// Reserves a block of epochs, committed before any of them is used.
  result<std::uint64_t> reserve(std::uint64_t count) override;
  /// Upserts a node (a re-registration counts, never duplicates).
  result<void> save_node(const node_view& node, bool registration);
  /// Marks a node removed.
  result<void> remove_node(const std::string& node_id);
  /// Records a granted lease.
  result<void> lease_offered(const offer_event& offer, const std::string& job_id);
  /// Records how a lease ended.
  result<void> lease_ended(const lease_ended_event& ended);
  /// Records the artifact of the lease whose result counted.
  result<void> shot_done(const shot_outcome& outcome);
  /// At start-up: leases left open by a previous coordinator are expired.
  result<int> expire_open_leases();
  /// The nodes known from earlier runs (for `ctl nodes list` without a coordinator).
  result<std::vector<node_view>> load_nodes();

 private:
  explicit farm_store(std::unique_ptr<pqxx::connection> conn) : conn_(std::move(conn)) {}
  std::unique_ptr<pqxx::connection> conn_;
};

}  // namespace reelfarm::farm
