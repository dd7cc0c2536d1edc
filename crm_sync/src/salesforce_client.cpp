#include "reelfarm/crm_sync/salesforce_client.hpp"
#include "reelfarm/crm_sync/crm_metrics.hpp"

#include <fstream>
#include <sstream>

#include "reelfarm/common/log.hpp"
#include "reelfarm/crm_sync/errc.hpp"
#include "reelfarm/crm_sync/jwt.hpp"

namespace reelfarm::crm {

namespace {

constexpr std::string_view component = "crm.salesforce";

/// The first error of a Salesforce error body `[{message, errorCode}]`, or
/// empty strings when the body is not that shape.
std::pair<std::string, std::string> first_error(const std::string& body) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_array() && !json.empty() && json[0].is_object()) {
    const auto& e = json[0];
    return {e.value("errorCode", std::string()), e.value("message", std::string())};
  }
  if (json.is_object()) {  // the token endpoint's {error, error_description}
    return {json.value("error", std::string()), json.value("error_description", std::string())};
  }
  return {};
}

bool is_http_url(const std::string& url) {
  return url.starts_with("https://") || url.starts_with("http://");
}

result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return error(crm_errc::config, "cannot read the Salesforce key file " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

record_outcome outcome_from_json(const nlohmann::json& r) {
  record_outcome out;
  out.success = r.value("success", false);
  out.created = r.value("created", false);
  if (auto id = r.find("id"); id != r.end() && id->is_string()) {
    out.id = id->get<std::string>();
  }
  if (auto errors = r.find("errors"); errors != r.end() && errors->is_array() && !errors->empty()) {
    const auto& e = (*errors)[0];
    if (e.is_object()) {
      out.status_code = e.value("statusCode", std::string("UNKNOWN"));
      out.message = e.value("message", std::string());
      if (auto f = e.find("fields"); f != e.end() && f->is_array()) {
        for (const auto& name : *f) {
          if (name.is_string()) {
            out.fields.push_back(name.get<std::string>());
          }
        }
      }
    }
  }
  if (!out.success && out.status_code.empty()) {
    out.status_code = "UNKNOWN";
  }
  return out;
}

}  // namespace

salesforce_client::salesforce_client(crm_options options)
    : options_(std::move(options)), http_(options_.request_timeout, options_.connect_timeout) {}

std::string salesforce_client::data_url(const std::string& path) const {
  return instance_url_ + "/services/data/v" + options_.api_version + "/" + path;
}

result<std::string> salesforce_client::token_request_body() {
  if (options_.client_id.empty()) {
    return error(crm_errc::config, "crm.client_id is not set");
  }
  if (options_.flow == auth_flow::client_credentials) {
    return "grant_type=client_credentials&client_id=" + http_.escape(options_.client_id) +
           "&client_secret=" + http_.escape(options_.client_secret);
  }
  auto key = read_file(options_.private_key_file);
  if (!key) {
    return std::move(key).error();
  }
  jwt_claims claims{options_.client_id, options_.username,
                    options_.audience.empty() ? "https://login.salesforce.com" : options_.audience,
                    std::chrono::system_clock::now() + std::chrono::minutes(3)};
  auto assertion = make_jwt_assertion(*key, claims);
  if (!assertion) {
    return std::move(assertion).error();
  }
  return "grant_type=" + http_.escape("urn:ietf:params:oauth:grant-type:jwt-bearer") +
         "&assertion=" + *assertion;
}

result<void> salesforce_client::authenticate() {
  auto body = token_request_body();
  if (!body) {
    return std::move(body).error();
  }
  ++token_requests_;
  auto response = http_.perform(
      {"POST",
       options_.login_url + "/services/oauth2/token",
       {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"},
       *body});
  crm_metrics::salesforce_call("/services/oauth2/token", response ? response->status : 0);
  if (!response) {
    return std::move(response).error();
  }
  if (response->status >= 500) {
    return error(crm_errc::server_error,
                 "the Salesforce token endpoint answered " + std::to_string(response->status));
  }
  if (response->status != 200) {
    auto [code, message] = first_error(response->body);
    return error(crm_errc::auth_failed, "Salesforce refused the credentials (" +
                                            std::to_string(response->status) + " " + code + ": " +
                                            message + ")");
  }
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (!json.is_object() || !json.contains("access_token") || !json["access_token"].is_string() ||
      json["access_token"].get<std::string>().empty() || !json.contains("instance_url") ||
      !json["instance_url"].is_string() || !is_http_url(json["instance_url"]) ||
      json.value("token_type", std::string("Bearer")) != "Bearer") {
    return error(crm_errc::invalid_response,
                 "the Salesforce token response lacks access_token, instance_url or token_type");
  }
  access_token_ = json["access_token"].get<std::string>();
  instance_url_ = json["instance_url"].get<std::string>();
  while (instance_url_.ends_with('/')) {
    instance_url_.pop_back();
  }
  token_expires_ = std::chrono::steady_clock::now() + options_.token_ttl;
  log::info(component, "authenticated",
            {{"instance_url", instance_url_}, {"token", log::secret{access_token_}}});
  return ok();
}

result<http_response> salesforce_client::send_once(const std::string& method,
                                                   const std::string& path, const std::string& body,
                                                   const std::string& content_type) {
  if (access_token_.empty() || std::chrono::steady_clock::now() >= token_expires_) {
    if (auto auth = authenticate(); !auth) {
      return std::move(auth).error();
    }
  }
  ++api_calls_;
  std::string url = path.starts_with("/") ? instance_url_ + path : data_url(path);
  auto response = http_.perform({method,
                                 url,
                                 {"Authorization: Bearer " + access_token_,
                                  "Content-Type: " + content_type, "Accept: application/json"},
                                 body});
  crm_metrics::salesforce_call(path, response ? response->status : 0);
  if (response) {
    if (auto info = parse_limit_info(response->header("sforce-limit-info"))) {
      limit_ = info;
      crm_metrics::api_usage(*info);
    }
  }
  return response;
}

result<http_response> salesforce_client::call(const std::string& method, const std::string& path,
                                              const std::string& body,
                                              const std::string& content_type) {
  auto response = send_once(method, path, body, content_type);
  if (response && response->status == 401) {
    // The session expired or was revoked: one fresh token, one more try.
    log::info(component, "session expired; re-authenticating");
    access_token_.clear();
    response = send_once(method, path, body, content_type);
    if (response && response->status == 401) {
      return error(crm_errc::session_expired,
                   "Salesforce refused a fresh session token (401 INVALID_SESSION_ID)");
    }
  }
  if (!response) {
    return response;
  }
  if (auto status = check_status(*response); !status) {
    return std::move(status).error();
  }
  return response;
}

result<void> salesforce_client::check_status(const http_response& response) {
  if (response.status >= 200 && response.status < 400) {
    return ok();
  }
  auto [code, message] = first_error(response.body);
  const std::string what =
      "Salesforce answered " + std::to_string(response.status) + " " + code + ": " + message;
  if (response.status >= 500) {
    return error(crm_errc::server_error, what);
  }
  if (code == "REQUEST_LIMIT_EXCEEDED") {
    return error(crm_errc::limit_exceeded, what);
  }
  if (code == "UNABLE_TO_LOCK_ROW") {
    return error(crm_errc::unable_to_lock, what);
  }
  return error(crm_errc::rejected, what);
}

result<nlohmann::json> salesforce_client::parse_body(const http_response& response) {
  auto json = nlohmann::json::parse(response.body, nullptr, false);
  if (json.is_discarded()) {
    return error(crm_errc::invalid_response, "Salesforce answered " +
                                                 std::to_string(response.status) +
                                                 " with a body that "
                                                 "is not JSON");
  }
  return json;
}

result<std::vector<record_outcome>> salesforce_client::upsert_collection(
    const std::string& object, const std::string& ext_field,
    const std::vector<nlohmann::json>& records, bool all_or_none) {
  if (records.empty() || records.size() > 200) {
    return error(crm_errc::config, "an sObject Collections call takes 1 to 200 records, not " +
                                       std::to_string(records.size()));
  }
  nlohmann::json body = {{"allOrNone", all_or_none}, {"records", nlohmann::json::array()}};
  for (const auto& r : records) {
    nlohmann::json record = r;
    record["attributes"] = {{"type", object}};
    body["records"].push_back(std::move(record));
  }
  auto response = call("PATCH", "composite/sobjects/" + object + "/" + ext_field, body.dump(),
                       "application/json");
  if (!response) {
    return std::move(response).error();
  }
  auto json = parse_body(*response);
  if (!json) {
    return std::move(json).error();
  }
  // Results must be one object per record, in order: anything else cannot be
  // matched to our rows, so nothing in the batch counts as done.
  if (!json->is_array() || json->size() != records.size()) {
    return error(crm_errc::invalid_response, "the collections upsert answered " +
                                                 std::to_string(json->size()) + " results for " +
                                                 std::to_string(records.size()) + " records");
  }
  std::vector<record_outcome> outcomes;
  outcomes.reserve(records.size());
  for (const auto& r : *json) {
    if (!r.is_object() || !r.contains("success") || !r["success"].is_boolean()) {
      return error(crm_errc::invalid_response, "a collections result lacks \"success\"");
    }
    outcomes.push_back(outcome_from_json(r));
  }
  return outcomes;
}

result<record_outcome> salesforce_client::upsert_one(const std::string& object,
                                                     const std::string& ext_field,
                                                     const std::string& key,
                                                     const nlohmann::json& record) {
  auto response = call("PATCH", "sobjects/" + object + "/" + ext_field + "/" + http_.escape(key),
                       record.dump(), "application/json");
  if (!response) {
    return std::move(response).error();
  }
  if (response->status == 300) {
    record_outcome out;
    out.status_code = "MULTIPLE_CHOICES";
    out.message = "several records have " + ext_field + " = " + key;
    return out;
  }
  if (response->status == 204) {  // APIs before v46 answer an update with no body
    record_outcome out;
    out.success = true;
    return out;
  }
  auto json = parse_body(*response);
  if (!json) {
    return std::move(json).error();
  }
  if (!json->is_object() || !json->contains("id")) {
    return error(crm_errc::invalid_response, "the upsert answer lacks an id");
  }
  auto out = outcome_from_json(*json);
  out.success = true;
  out.created = response->status == 201;
  return out;
}

result<std::vector<nlohmann::json>> salesforce_client::query(const std::string& soql) {
  std::vector<nlohmann::json> records;
  std::string path = "query?q=" + http_.escape(soql);
  for (int page = 0; page < 100000; ++page) {
    auto response = call("GET", path, "", "application/json");
    if (!response) {
      return std::move(response).error();
    }
    auto json = parse_body(*response);
    if (!json) {
      return std::move(json).error();
    }
    if (!json->is_object() || !(*json)["records"].is_array()) {
      return error(crm_errc::invalid_response, "the query answer lacks records");
    }
    for (auto& r : (*json)["records"]) {
      records.push_back(std::move(r));
    }
    if (json->value("done", true) || !json->contains("nextRecordsUrl")) {
      return records;
    }
    path = (*json)["nextRecordsUrl"].get<std::string>();
  }
  return error(crm_errc::invalid_response, "the query never finished paging");
}

result<nlohmann::json> salesforce_client::get(const std::string& path) {
  auto response = call("GET", path, "", "application/json");
  if (!response) {
    return std::move(response).error();
  }
  return parse_body(*response);
}

}  // namespace reelfarm::crm
