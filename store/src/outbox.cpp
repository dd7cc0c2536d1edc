#include "reelfarm/store/outbox.hpp"

namespace reelfarm {

const char* outbox_aggregate_name(outbox_aggregate aggregate) noexcept {
  switch (aggregate) {
    case outbox_aggregate::contact:
      return "Contact";
    case outbox_aggregate::ai_project:
      return "AI_Project__c";
    case outbox_aggregate::ai_credit:
      return "AI_Credit__c";
    case outbox_aggregate::youtube_integration:
      return "YouTube_Integration__c";
  }
  return "Contact";
}

void enqueue_outbox(pqxx::transaction_base& tx, const outbox_record& record) {
  // NULL, not '', when there is no payload: jsonb would refuse the empty string.
  tx.exec_params("SELECT crm_enqueue($1, $2, NULLIF($3, '')::jsonb)",
                 outbox_aggregate_name(record.aggregate), record.record_key, record.payload_json);
}

}  // namespace reelfarm
