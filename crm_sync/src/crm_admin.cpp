#include "reelfarm/crm_sync/crm_admin.hpp"

#include <pqxx/pqxx>

#include "reelfarm/crm_sync/errc.hpp"

namespace reelfarm::crm {

result<std::int64_t> enqueue_backfill(pqxx::connection& conn) {
  try {
    pqxx::work tx(conn);
    auto r = tx.exec(
        "WITH q AS ("
        " INSERT INTO crm_outbox (aggregate, record_key)"
        " SELECT 'Contact', record_key FROM crm_contact_records"
        " UNION ALL SELECT 'AI_Project__c', record_key FROM crm_project_records"
        " UNION ALL SELECT 'AI_Credit__c', record_key FROM crm_credit_records"
        " UNION ALL SELECT 'YouTube_Integration__c', record_key FROM crm_youtube_records"
        " RETURNING 1) SELECT count(*) FROM q");
    tx.commit();
    return r[0][0].as<std::int64_t>();
  } catch (const std::exception& e) {
    return error(crm_errc::database,
                 std::string("the backfill could not be enqueued: ") + e.what());
  }
}

result<outbox_backlog> read_backlog(pqxx::connection& conn) {
  try {
    pqxx::read_transaction tx(conn);
    auto r = tx.exec(
        "SELECT (SELECT count(*) FROM crm_outbox WHERE done_at IS NULL),"
        " coalesce((SELECT (extract(epoch FROM clock_timestamp() - min(created_at)) * 1000)::bigint"
        "   FROM crm_outbox WHERE done_at IS NULL), 0),"
        " (SELECT count(*) FROM crm_outbox WHERE done_at IS NULL AND attempts > 0),"
        " (SELECT count(*) FROM crm_outbox WHERE done_at > clock_timestamp() - interval '1 hour'),"
        " (SELECT count(*) FROM crm_dead_letters WHERE retried_at IS NULL)");
    outbox_backlog b;
    b.pending = r[0][0].as<std::int64_t>();
    b.oldest_pending_ms = r[0][1].as<std::int64_t>();
    b.retrying = r[0][2].as<std::int64_t>();
    b.done_last_hour = r[0][3].as<std::int64_t>();
    b.dead_letters_open = r[0][4].as<std::int64_t>();
    return b;
  } catch (const std::exception& e) {
    return error(crm_errc::database, std::string("the outbox backlog cannot be read: ") + e.what());
  }
}

result<std::vector<dead_letter>> list_dead_letters(pqxx::connection& conn, int limit) {
  try {
    pqxx::read_transaction tx(conn);
    auto rows = tx.exec_params(
        "SELECT id, aggregate, record_key, status_code, message, fields::text, created_at::text"
        " FROM crm_dead_letters WHERE retried_at IS NULL ORDER BY id DESC LIMIT $1",
        limit);
    std::vector<dead_letter> out;
    for (const auto& row : rows) {
      out.push_back({row[0].as<std::int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                     row[3].as<std::string>(), row[4].as<std::string>(), row[5].as<std::string>(),
                     row[6].as<std::string>()});
    }
    return out;
  } catch (const std::exception& e) {
    return error(crm_errc::database, std::string("the dead letters cannot be read: ") + e.what());
  }
}

result<std::int64_t> retry_dead_letters(pqxx::connection& conn,
                                        const std::vector<std::int64_t>& ids) {
  std::string list = "[";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    list += (i ? "," : "") + std::to_string(ids[i]);
  }
  list += "]";
  try {
    pqxx::work tx(conn);
    auto r = tx.exec_params(
        "WITH letters AS ("
        " UPDATE crm_dead_letters SET retried_at = clock_timestamp()"
        " WHERE retried_at IS NULL AND ($1::jsonb = '[]'::jsonb OR id IN"
        "   (SELECT jsonb_array_elements_text($1::jsonb)::bigint))"
        " RETURNING aggregate, record_key),"
        " queued AS (INSERT INTO crm_outbox (aggregate, record_key)"
        "   SELECT DISTINCT aggregate, record_key FROM letters RETURNING 1)"
        " SELECT (SELECT count(*) FROM letters)",
        list);
    tx.commit();
    return r[0][0].as<std::int64_t>();
  } catch (const std::exception& e) {
    return error(crm_errc::database,
                 std::string("the dead letters cannot be retried: ") + e.what());
  }
}

}  // namespace reelfarm::crm
