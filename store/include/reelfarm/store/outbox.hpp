#pragma once

#include <string>

#include <pqxx/transaction_base>

namespace reelfarm {

/// The Salesforce objects the CRM outbox feeds.
enum class outbox_aggregate { contact, ai_project, ai_credit, youtube_integration };

/// The Salesforce API name of `aggregate` ("Contact", "AI_Project__c", ...).
const char* outbox_aggregate_name(outbox_aggregate aggregate) noexcept;

/// One change Salesforce must see.
struct outbox_record {
  outbox_aggregate aggregate = outbox_aggregate::contact;
  std::string record_key;    ///< the record's primary key, used as Salesforce's Farm_Id__c
  std::string payload_json;  ///< optional audit copy of the fields; empty: none
};

/// Writes `record` to crm_outbox inside the caller's transaction, so the
/// change and its mirror commit (or roll back) together. Users, projects,
/// credit transactions and YouTube uploads are already enqueued by triggers
/// (migration 0004); call this for changes the triggers cannot see, e.g. a
/// record whose Salesforce shape depends on another table. Throws what
/// libpqxx throws, like the caller's other statements in that transaction.
void enqueue_outbox(pqxx::transaction_base& tx, const outbox_record& record);

}  // namespace reelfarm
