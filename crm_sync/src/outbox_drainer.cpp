#include "reelfarm/crm_sync/outbox_drainer.hpp"

#include <algorithm>
#include <set>

#include <pqxx/pqxx>

#include "reelfarm/common/log.hpp"
#include "reelfarm/crm_sync/errc.hpp"

namespace reelfarm::crm {

namespace {

constexpr std::string_view component = "crm.drainer";
constexpr const char* external_id = "Farm_Id__c";

}  // namespace

/// What a pass writes back to crm_outbox when it commits.
struct outbox_drainer::settlement {
  nlohmann::json done = nlohmann::json::array();   // row ids
  nlohmann::json retry = nlohmann::json::array();  // {id, delay_ms, err}
  nlohmann::json dead = nlohmann::json::array();   // dead letters
};

outbox_drainer::outbox_drainer(pqxx::connection& conn, salesforce_client& client,
                               crm_options options)
    : conn_(conn),
      client_(client),
      options_(std::move(options)),
      backoff_(options_.backoff_base, options_.backoff_cap) {
  options_.batch_size = std::clamp<std::size_t>(options_.batch_size, 1, 200);
}

const std::vector<std::string>& outbox_drainer::object_order() {
  // Parents first: lookups name the parent by its external id, so it must exist.
  static const std::vector<std::string> order = {"Contact", "AI_Project__c", "AI_Credit__c",
                                                 "YouTube_Integration__c"};
  return order;
}

std::map<std::string, outbox_drainer::object_batch> outbox_drainer::claim(pqxx::work& tx,
                                                                          drain_report& report) {
  // SKIP LOCKED: rows another instance holds are simply not ours this pass.
  auto rows = tx.exec_params(
      "SELECT id, aggregate, record_key, attempts FROM crm_outbox "
      "WHERE done_at IS NULL AND next_attempt_at <= clock_timestamp() "
      "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
      static_cast<long long>(options_.claim_limit));
  std::map<std::string, object_batch> batches;
  for (const auto& row : rows) {
    auto& rec = batches[row[1].as<std::string>()][row[2].as<std::string>()];
    rec.row_ids.push_back(row[0].as<long long>());
    rec.attempts = std::max(rec.attempts, row[3].as<int>());
  }
  // One record is in flight in one instance at a time: otherwise an instance
  // holding an older state could send it after another sent the newer one
  // (row locks alone do not prevent that: the newer change is a new row).
  // Records another pass holds are left for that pass to pick up next.
  nlohmann::json wanted = nlohmann::json::array();
  for (const auto& [object, batch] : batches) {
    for (const auto& [key, unused] : batch) {
      wanted.push_back({{"aggregate", object}, {"record_key", key}});
    }
  }
  auto locked = tx.exec_params(
      "SELECT k.aggregate, k.record_key "
      "FROM jsonb_to_recordset($1::jsonb) AS k(aggregate text, record_key text) "
      "WHERE pg_try_advisory_xact_lock(hashtext('crm:' || k.aggregate), hashtext(k.record_key))",
      wanted.dump());
  std::map<std::string, object_batch> mine;
  for (const auto& row : locked) {
    const auto object = row[0].as<std::string>();
    const auto key = row[1].as<std::string>();
    auto& rec = batches[object][key];
    report.claimed_rows += rec.row_ids.size();
    mine[object][key] = std::move(rec);
  }
  return mine;
}

std::vector<std::pair<std::string, nlohmann::json>> outbox_drainer::current_records(
    pqxx::work& tx, const std::string& object, const object_batch& batch) {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& [key, unused] : batch) {
    keys.push_back(key);
  }
  // The state now, not the state at enqueue time: every claimed change is
  // at least this old, so sending this settles all of them at once.
  auto rows = tx.exec_params(
      "SELECT record_key, payload::text FROM crm_current_records($1, "
      "ARRAY(SELECT jsonb_array_elements_text($2::jsonb))) ORDER BY record_key",
      object, keys.dump());
  std::vector<std::pair<std::string, nlohmann::json>> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.emplace_back(row[0].as<std::string>(), nlohmann::json::parse(row[1].as<std::string>()));
  }
  return out;
}

void outbox_drainer::settle_outcome(const pending_record& rec, const std::string& object,
                                    const std::string& key, const nlohmann::json& payload,
                                    const record_outcome& outcome, settlement& out,
                                    drain_report& report) {
  if (outcome.success) {
    for (auto id : rec.row_ids) {
      out.done.push_back(id);
    }
    ++report.records_done;
    return;
  }
  const std::string err = outcome.status_code + ": " + outcome.message;
  if (outcome.retryable() && rec.attempts + 1 < options_.max_attempts) {
    const auto delay = backoff_.delay(rec.attempts).count();
    for (auto id : rec.row_ids) {
      out.retry.push_back({{"id", id}, {"delay_ms", delay}, {"err", err}});
    }
    ++report.rescheduled;
    return;
  }
  // Refused: park it where admins see Salesforce's words, and let the rows
  // go so the rest of the outbox keeps flowing.
  out.dead.push_back({{"outbox_id", rec.row_ids.back()},
                      {"aggregate", object},
                      {"record_key", key},
                      {"payload", payload},
                      {"status_code", outcome.status_code},
                      {"message", outcome.message},
                      {"fields", outcome.fields},
                      {"attempts", rec.attempts + 1}});
  for (auto id : rec.row_ids) {
    out.done.push_back(id);
  }
  ++report.dead_lettered;
  log::warn(component, "Salesforce refused a record",
            {{"object", object}, {"key", key}, {"error", err}});
}

void outbox_drainer::send_collections(
    const std::string& object, object_batch& batch,
    const std::vector<std::pair<std::string, nlohmann::json>>& records, settlement& out,
    drain_report& report) {
  // Work list of [begin, end) chunks; a chunk refused as a whole (one bad
  // field poisons the request) is halved until the bad record stands alone.
  std::vector<std::pair<std::size_t, std::size_t>> chunks;
  for (std::size_t i = 0; i < records.size(); i += options_.batch_size) {
    chunks.emplace_back(i, std::min(records.size(), i + options_.batch_size));
  }
  std::reverse(chunks.begin(), chunks.end());
  while (!chunks.empty() && !report.stopped_by) {
    auto [begin, end] = chunks.back();
    chunks.pop_back();
    // Payloads already carry Farm_Id__c and the lookups by parent external id.
    std::vector<nlohmann::json> payloads;
    payloads.reserve(end - begin);
    for (auto i = begin; i < end; ++i) {
      payloads.push_back(records[i].second);
    }
    ++report.calls;
    auto outcomes = client_.upsert_collection(object, external_id, payloads);
    if (!outcomes && outcomes.error().is(crm_errc::rejected) && end - begin > 1) {
      const auto mid = begin + (end - begin) / 2;
      chunks.emplace_back(mid, end);
      chunks.emplace_back(begin, mid);
      continue;
    }
    if (!outcomes && outcomes.error().is(crm_errc::rejected)) {
      record_outcome refused;
      refused.status_code = std::string(outcomes.error().code_name());
      refused.message = outcomes.error().message();
      settle_outcome(batch[records[begin].first], object, records[begin].first,
                     records[begin].second, refused, out, report);
      continue;
    }
    if (!outcomes) {
      report.stopped_by = outcomes.error();
      return;
    }
    for (auto i = begin; i < end; ++i) {
      settle_outcome(batch[records[i].first], object, records[i].first, records[i].second,
                     (*outcomes)[i - begin], out, report);
    }
  }
}

void outbox_drainer::send_bulk(const std::string& object, object_batch& batch,
                               const std::vector<std::pair<std::string, nlohmann::json>>& records,
                               settlement& out, drain_report& report) {
  std::vector<nlohmann::json> payloads;
  std::map<std::string, const nlohmann::json*> by_key;
  payloads.reserve(records.size());
  for (const auto& [key, payload] : records) {
    payloads.push_back(payload);
    by_key[key] = &payload;
  }
  report.used_bulk = true;
  const auto before = client_.api_calls();
  auto outcomes = client_.bulk_upsert(object, external_id, payloads);
  report.calls += client_.api_calls() - before;
  if (!outcomes) {
    report.stopped_by = outcomes.error();
    return;
  }
  std::set<std::string> settled;
  for (const auto& [key, outcome] : *outcomes) {
    auto it = batch.find(key);
    if (it == batch.end() || !settled.insert(key).second) {
      continue;  // not ours or answered twice: vendor input is not trusted
    }
    settle_outcome(it->second, object, key, *by_key[key], outcome, out, report);
  }
  // Records the job did not report on stay pending (rescheduled below).
  for (const auto& [key, unused] : records) {
    if (!settled.count(key)) {
      record_outcome lost;
      lost.status_code = "UNABLE_TO_LOCK_ROW";  // retryable: the job lost it
      lost.message = "the Bulk API job reported nothing for this record";
      settle_outcome(batch[key], object, key, *by_key[key], lost, out, report);
    }
  }
}

void outbox_drainer::send_object(const std::string& object, object_batch& batch,
                                 std::vector<std::pair<std::string, nlohmann::json>>& records,
                                 settlement& out, drain_report& report) {
  report.records_sent += records.size();
  if (records.size() > options_.bulk_threshold) {
    send_bulk(object, batch, records, out, report);
  } else {
    send_collections(object, batch, records, out, report);
  }
}

void outbox_drainer::write_settlement(pqxx::work& tx, const settlement& s) {
  // clock_timestamp(), not now(): now() is when the pass began, and the
  // replication lag is measured from these stamps.
  tx.exec_params(
      "UPDATE crm_outbox SET done_at = clock_timestamp(), claimed_by = $2 "
      "WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)",
      s.done.dump(), options_.instance_name);
  tx.exec_params(
      "UPDATE crm_outbox o SET attempts = o.attempts + 1, last_error = d.err, claimed_by = $2, "
      "next_attempt_at = clock_timestamp() + d.delay_ms * interval '1 millisecond' "
      "FROM jsonb_to_recordset($1::jsonb) AS d(id bigint, delay_ms bigint, err text) "
      "WHERE o.id = d.id",
      s.retry.dump(), options_.instance_name);
  tx.exec_params(
      "INSERT INTO crm_dead_letters (outbox_id, aggregate, record_key, payload, status_code, "
      "message, fields, attempts) "
      "SELECT outbox_id, aggregate, record_key, payload, status_code, message, fields, attempts "
      "FROM jsonb_to_recordset($1::jsonb) AS d(outbox_id bigint, aggregate text, record_key text, "
      "payload jsonb, status_code text, message text, fields jsonb, attempts int)",
      s.dead.dump());
}

result<drain_report> outbox_drainer::drain_once() {
  drain_report report;
  try {
    pqxx::work tx(conn_);
    auto batches = claim(tx, report);
    settlement out;
    for (const auto& object : object_order()) {
      auto found = batches.find(object);
      if (found == batches.end()) {
        continue;
      }
      auto& batch = found->second;
      auto records = current_records(tx, object, batch);
      std::set<std::string> present;
      for (const auto& [key, unused] : records) {
        present.insert(key);
      }
      for (const auto& [key, rec] : batch) {
        if (!present.count(key)) {  // deleted since: nothing left to mirror
          for (auto id : rec.row_ids) {
            out.done.push_back(id);
          }
        }
      }
      if (!report.stopped_by && !records.empty()) {
        send_object(object, batch, records, out, report);
      }
    }
    if (report.stopped_by) {
      // Whatever was not settled waits for the runner's backoff; parents
      // that failed keep their children back too (they are in this set).
      std::set<long long> settled;
      for (const auto& id : out.done) {
        settled.insert(id.get<long long>());
      }
      for (const auto& r : out.retry) {
        settled.insert(r["id"].get<long long>());
      }
      const auto err = report.stopped_by->full_text();
      for (const auto& [object, batch] : batches) {
        for (const auto& [key, rec] : batch) {
          if (!settled.count(rec.row_ids.front())) {
            const auto delay = backoff_.delay(rec.attempts).count();
            for (auto id : rec.row_ids) {
              out.retry.push_back({{"id", id}, {"delay_ms", delay}, {"err", err}});
            }
          }
        }
      }
    }
    write_settlement(tx, out);
    tx.commit();
  } catch (const std::exception& e) {
    return error(crm_errc::database, std::string("the outbox pass failed: ") + e.what());
  }
  return report;
}

}  // namespace reelfarm::crm
