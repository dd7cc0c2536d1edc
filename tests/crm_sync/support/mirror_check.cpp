#include "mirror_check.hpp"

#include <cmath>
#include <map>
#include <set>

#include <pqxx/pqxx>

namespace reelfarm::testing {

namespace {

/// Salesforce answers datetimes as ...000+0000; PostgreSQL's views send ...Z.
std::string normal_datetime(std::string v) {
  if (v.ends_with("+0000")) {
    v = v.substr(0, v.size() - 5) + "Z";
  }
  return v;
}

bool same_value(const nlohmann::json& pg, const nlohmann::json& sf) {
  if (pg.is_null() || sf.is_null()) {
    return pg.is_null() && sf.is_null();
  }
  if (pg.is_number() && sf.is_number()) {
    return std::fabs(pg.get<double>() - sf.get<double>()) < 1e-9;
  }
  if (pg.is_string() && sf.is_string()) {
    return normal_datetime(pg.get<std::string>()) == normal_datetime(sf.get<std::string>());
  }
  return pg == sf;
}

std::vector<std::string> compare_object(pqxx::connection& conn, crm::salesforce_client& client,
                                        const std::string& object, const std::string& view,
                                        std::size_t* compared) {
  std::vector<std::string> diffs;
  pqxx::read_transaction tx(conn);
  std::map<std::string, nlohmann::json> pg;
  for (const auto& row : tx.exec("SELECT record_key, payload::text FROM " + view)) {
    pg[row[0].as<std::string>()] = nlohmann::json::parse(row[1].as<std::string>());
  }
  std::set<std::string> columns = {"Farm_Id__c"};
  for (const auto& [key, payload] : pg) {
    for (const auto& [name, value] : payload.items()) {
      columns.insert(value.is_object() ? name + ".Farm_Id__c" : name);
    }
  }
  std::string soql = "SELECT Id";
  for (const auto& c : columns) {
    soql += ", " + c;
  }
  soql += " FROM " + object;
  auto records = client.query(soql);
  if (!records) {
    return {object + ": query failed: " + records.error().full_text()};
  }
  std::map<std::string, nlohmann::json> sf;
  for (auto& r : *records) {
    const auto key = r.value("Farm_Id__c", std::string());
    if (!sf.emplace(key, r).second) {
      diffs.push_back(object + " " + key + ": duplicated in Salesforce");
    }
  }
  for (const auto& [key, payload] : pg) {
    auto it = sf.find(key);
    if (it == sf.end()) {
      diffs.push_back(object + " " + key + ": missing in Salesforce");
      continue;
    }
    if (compared) {
      ++*compared;
    }
    for (const auto& [name, value] : payload.items()) {
      const auto& got = it->second.contains(name) ? it->second[name] : nlohmann::json();
      if (value.is_object()) {
        const auto parent = got.is_object() ? got.value("Farm_Id__c", nlohmann::json()) : got;
        if (!same_value(value["Farm_Id__c"], parent)) {
          diffs.push_back(object + " " + key + "." + name + ": " + value.dump() +
                          " != " + got.dump());
        }
      } else if (!same_value(value, got)) {
        diffs.push_back(object + " " + key + "." + name + ": " + value.dump() +
                        " != " + got.dump());
      }
    }
  }
  for (const auto& [key, r] : sf) {
    if (!pg.count(key)) {
      diffs.push_back(object + " " + key + ": in Salesforce but not in PostgreSQL");
    }
  }
  return diffs;
}

}  // namespace

std::vector<std::string> mirror_differences(const std::string& dsn, crm::salesforce_client& client,
                                            std::size_t* compared) {
  pqxx::connection conn(dsn);
  std::vector<std::string> all;
  const std::pair<const char*, const char*> objects[] = {
      {"Contact", "crm_contact_records"},
      {"AI_Project__c", "crm_project_records"},
      {"AI_Credit__c", "crm_credit_records"},
      {"YouTube_Integration__c", "crm_youtube_records"}};
  for (const auto& [object, view] : objects) {
    auto d = compare_object(conn, client, object, view, compared);
    all.insert(all.end(), d.begin(), d.end());
  }
  return all;
}

}  // namespace reelfarm::testing
