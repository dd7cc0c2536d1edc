// Bulk API 2.0 ingest for salesforce_client: one job per call of
// bulk_upsert, about seven API calls for any number of records.
#include <set>
#include <thread>

#include "reelfarm/crm_sync/errc.hpp"
#include "reelfarm/crm_sync/salesforce_client.hpp"

namespace reelfarm::crm {

namespace {

std::string csv_cell(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) {
    return text;
  }
  std::string out = "\"";
  for (char c : text) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

/// A record field as a CSV cell: "#N/A" clears a field (an empty cell would
/// leave it unchanged), nested lookups become "User__r.Farm_Id__c" columns.
std::string cell_text(const nlohmann::json& value) {
  if (value.is_null()) {
    return "#N/A";
  }
  if (value.is_string()) {
    return value.get<std::string>();
  }
  return value.dump();
}

std::vector<std::string> columns_of(const std::vector<nlohmann::json>& records) {
  std::set<std::string> names;
  for (const auto& r : records) {
    for (const auto& [key, value] : r.items()) {
      if (value.is_object()) {
        for (const auto& [sub, unused] : value.items()) {
          names.insert(key + "." + sub);
        }
      } else {
        names.insert(key);
      }
    }
  }
  return {names.begin(), names.end()};
}

std::string to_csv(const std::vector<std::string>& columns,
                   const std::vector<nlohmann::json>& records) {
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    out += (i ? "," : "") + csv_cell(columns[i]);
  }
  out += '\n';
  for (const auto& r : records) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const auto dot = columns[i].find('.');
      const nlohmann::json* v = nullptr;
      if (dot == std::string::npos) {
        if (r.contains(columns[i])) {
          v = &r[columns[i]];
        }
      } else if (auto p = r.find(columns[i].substr(0, dot)); p != r.end() && p->is_object()) {
        if (auto s = p->find(columns[i].substr(dot + 1)); s != p->end()) {
          v = &*s;
        }
      }
      out += (i ? "," : "") + (v ? csv_cell(cell_text(*v)) : std::string());
    }
    out += '\n';
  }
  return out;
}

/// Parses RFC 4180 CSV (quoted cells, doubled quotes, LF or CRLF).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false;
  bool any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    any = true;
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
        ++i;
      }
      row.push_back(std::move(cell));
      cell.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      cell += c;
    }
  }
  if (any) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

/// "CODE:message:fields" (Bulk API's sf__Error) as an outcome.
record_outcome failed_outcome(const std::string& sf_error) {
  record_outcome out;
  const auto colon = sf_error.find(':');
  out.status_code = colon == std::string::npos ? "UNKNOWN" : sf_error.substr(0, colon);
  std::string rest = colon == std::string::npos ? sf_error : sf_error.substr(colon + 1);
  if (auto last = rest.rfind(':'); last != std::string::npos) {
    rest = rest.substr(0, last);
  }
  out.message = rest;
  return out;
}

}  // namespace

result<nlohmann::json> salesforce_client::wait_for_job(const std::string& job_path) {
  const auto deadline = std::chrono::steady_clock::now() + options_.bulk_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto job = get(job_path);
    if (!job) {
      return job;
    }
    const std::string state = job->is_object() ? job->value("state", std::string()) : "";
    if (state == "JobComplete" || state == "Failed" || state == "Aborted") {
      return job;
    }
    if (state.empty()) {
      return error(crm_errc::invalid_response, "a Bulk API job answer lacks its state");
    }
    std::this_thread::sleep_for(options_.bulk_poll_interval);
  }
  return error(crm_errc::timeout, "the Bulk API job did not finish within crm.bulk_timeout");
}

result<std::vector<std::pair<std::string, record_outcome>>> salesforce_client::bulk_upsert(
    const std::string& object, const std::string& ext_field,
    const std::vector<nlohmann::json>& records) {
  const nlohmann::json spec = {{"object", object},
                               {"externalIdFieldName", ext_field},
                               {"contentType", "CSV"},
                               {"operation", "upsert"},
                               {"lineEnding", "LF"}};
  auto created = call("POST", "jobs/ingest", spec.dump(), "application/json");
  if (!created) {
    return std::move(created).error();
  }
  auto job = parse_body(*created);
  if (!job) {
    return std::move(job).error();
  }
  if (!job->is_object() || !(*job)["id"].is_string()) {
    return error(crm_errc::invalid_response, "the Bulk API did not name the new job");
  }
  const std::string path = "jobs/ingest/" + (*job)["id"].get<std::string>();
  const auto columns = columns_of(records);
  if (auto up = call("PUT", path + "/batches", to_csv(columns, records), "text/csv"); !up) {
    return std::move(up).error();
  }
  if (auto closed = call("PATCH", path, R"({"state":"UploadComplete"})", "application/json");
      !closed) {
    return std::move(closed).error();
  }
  auto finished = wait_for_job(path);
  if (!finished) {
    return std::move(finished).error();
  }
  std::vector<std::pair<std::string, record_outcome>> outcomes;
  for (const char* kind : {"successfulResults", "failedResults"}) {
    auto response = call("GET", path + "/" + kind + "/", "", "text/csv");
    if (!response) {
      return std::move(response).error();
    }
    auto rows = parse_csv(response->body);
    if (rows.empty()) {
      continue;
    }
    std::size_t key_col = rows[0].size();
    for (std::size_t i = 0; i < rows[0].size(); ++i) {
      if (rows[0][i] == ext_field) {
        key_col = i;
      }
    }
    if (key_col == rows[0].size() || rows[0].size() < 2) {
      return error(crm_errc::invalid_response,
                   std::string("the Bulk API ") + kind + " lack the external id column");
    }
    const bool success = std::string_view(kind) == "successfulResults";
    for (std::size_t r = 1; r < rows.size(); ++r) {
      if (rows[r].size() != rows[0].size()) {
        return error(crm_errc::invalid_response, "a Bulk API result row has the wrong width");
      }
      record_outcome out = success ? record_outcome{} : failed_outcome(rows[r][1]);
      out.success = success;
      if (success) {
        out.id = rows[r][0];
        out.created = rows[r][1] == "true";
      }
      outcomes.emplace_back(rows[r][key_col], std::move(out));
    }
  }
  return outcomes;
}

}  // namespace reelfarm::crm
