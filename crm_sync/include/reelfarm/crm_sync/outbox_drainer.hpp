#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pqxx/connection>
#include <pqxx/transaction>

#include "reelfarm/common/result.hpp"
#include "reelfarm/crm_sync/backoff_policy.hpp"
#include "reelfarm/crm_sync/crm_options.hpp"
#include "reelfarm/crm_sync/drain_report.hpp"
#include "reelfarm/crm_sync/salesforce_client.hpp"

namespace reelfarm::crm {

/// One pass over the outbox: claims due rows with FOR UPDATE SKIP LOCKED,
/// coalesces them per record, reads each record's current Salesforce shape
/// (crm_current_records), upserts parents before children in collections of
/// up to 200 (Bulk API 2.0 above the threshold), then, in the same
/// transaction, marks accepted rows done, reschedules transient failures
/// with backoff and dead-letters refusals. A crash anywhere before COMMIT
/// leaves every claimed row pending; upserts by external id make the resend
/// harmless.
class outbox_drainer {
 public:
  outbox_drainer(pqxx::connection& conn, salesforce_client& client, crm_options options);

  /// Runs one pass. Errors are database failures; Salesforce failures are in
  /// the report (`stopped_by`) because the pass still settles what it can.
  result<drain_report> drain_once();

  /// The dependency order of the mirrored objects: parents first.
  static const std::vector<std::string>& object_order();

 private:
  struct pending_record {
    std::vector<long long> row_ids;
    int attempts = 0;
  };
  using object_batch = std::map<std::string, pending_record>;  // record key -> rows
  struct settlement;

  std::map<std::string, object_batch> claim(pqxx::work& tx, drain_report& report);
  std::vector<std::pair<std::string, nlohmann::json>> current_records(pqxx::work& tx,
                                                                      const std::string& object,
                                                                      const object_batch& batch);
  void send_object(const std::string& object, object_batch& batch,
                   std::vector<std::pair<std::string, nlohmann::json>>& records, settlement& out,
                   drain_report& report);
  void send_collections(const std::string& object, object_batch& batch,
                        const std::vector<std::pair<std::string, nlohmann::json>>& records,
                        settlement& out, drain_report& report);
  void send_bulk(const std::string& object, object_batch& batch,
                 const std::vector<std::pair<std::string, nlohmann::json>>& records,
                 settlement& out, drain_report& report);
  void settle_outcome(const pending_record& rec, const std::string& object, const std::string& key,
                      const nlohmann::json& payload, const record_outcome& outcome, settlement& out,
                      drain_report& report);
  void write_settlement(pqxx::work& tx, const settlement& s);

  pqxx::connection& conn_;
  salesforce_client& client_;
  crm_options options_;
  backoff_policy backoff_;
};

}  // namespace reelfarm::crm
