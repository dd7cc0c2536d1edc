// The Salesforce client against the local server: both OAuth flows, token
// reuse, one re-authentication on 401, limit header, error classification,
// secrets kept out of logs.
#include <catch2/catch.hpp>

#include "reelfarm/common/log.hpp"
#include "reelfarm/crm_sync/api_limit_info.hpp"
#include "reelfarm/crm_sync/backoff_policy.hpp"
#include "reelfarm/crm_sync/errc.hpp"
#include "reelfarm/crm_sync/jwt.hpp"
#include "reelfarm/crm_sync/salesforce_client.hpp"
#include "support/local_salesforce.hpp"

using namespace reelfarm;
using nlohmann::json;
using testing::local_salesforce;

namespace {

json project(const std::string& key, const std::string& user) {
  return {{"Farm_Id__c", key},
          {"Name", "Film " + key},
          {"User__r", {{"Farm_Id__c", user}}},
          {"Status__c", "Processing"}};
}

}  // namespace

TEST_CASE("Sforce-Limit-Info parsing rejects malformed vendor headers", "[crm][client]") {
  auto info = crm::parse_limit_info("api-usage=18/5000");
  REQUIRE(info);
  CHECK(info->used == 18);
  CHECK(info->max == 5000);
  CHECK(crm::parse_limit_info("per-app-api-usage=1/2, api-usage=40/50")->used == 40);
  CHECK_FALSE(crm::parse_limit_info(""));
  CHECK_FALSE(crm::parse_limit_info("api-usage=18"));
  CHECK_FALSE(crm::parse_limit_info("api-usage=x/5"));
  CHECK_FALSE(crm::parse_limit_info("api-usage=5/0"));
  CHECK_FALSE(crm::parse_limit_info("per-app-api-usage=1/2"));
}

TEST_CASE("backoff grows exponentially, is capped and jittered", "[crm][client]") {
  crm::backoff_policy b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000), 42);
  for (int i = 0; i < 20; ++i) {
    const auto d0 = b.delay(0).count();
    CHECK(d0 >= 50);
    CHECK(d0 <= 100);
    const auto d3 = b.delay(3).count();
    CHECK(d3 >= 400);
    CHECK(d3 <= 800);
    CHECK(b.delay(30).count() <= 1000);
  }
  CHECK(crm::base64url("\xfb\xff") == "-_8");
}

TEST_CASE("JWT bearer flow: token cached, one re-authentication on 401, no secret logged",
          "[crm][client]") {
  local_salesforce sf;
  std::vector<std::string> lines;
  log::set_sink([&](std::string_view line) { lines.emplace_back(line); });
  crm::salesforce_client client(sf.options());
  auto first = client.upsert_collection(
      "Contact", "Farm_Id__c",
      {json{{"Farm_Id__c", "u-1"}, {"LastName", "Hopper"}, {"Email", "g@h.io"}}});
  REQUIRE(first);
  REQUIRE(first->size() == 1);
  CHECK((*first)[0].success);
  CHECK((*first)[0].created);
  CHECK(client.token_requests() == 1);

  auto second = client.upsert_collection("AI_Project__c", "Farm_Id__c",
                                         {project("p-1", "u-1"), project("p-2", "nobody")});
  REQUIRE(second);
  CHECK((*second)[0].success);
  CHECK_FALSE((*second)[1].success);
  CHECK((*second)[1].retryable());  // the parent may still arrive
  CHECK(client.token_requests() == 1);
  REQUIRE(client.limit_info());
  CHECK(client.limit_info()->used == 2);

  sf.admin("expire_tokens");
  auto third = client.query("SELECT Id, Name FROM AI_Project__c");
  REQUIRE(third);
  CHECK(third->size() == 1);
  CHECK(client.token_requests() == 2);

  // A server that refuses every session: exactly one retry, then an error.
  sf.admin("faults", {{"queue", {{{"kind", "expire_session"}, {"count", 2}}}}});
  auto refused = client.query("SELECT Id FROM Contact");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(crm_errc::session_expired));
  CHECK(client.token_requests() == 3);

  log::set_sink({});
  for (const auto& line : lines) {
    CHECK(line.find("00D") == std::string::npos);  // access tokens start with the org id
    CHECK(line.find(local_salesforce::client_secret) == std::string::npos);
    CHECK(line.find("BEGIN") == std::string::npos);
  }
}

TEST_CASE("client credentials flow and refused credentials", "[crm][client]") {
  local_salesforce sf;
  crm::salesforce_client client(sf.options(crm::auth_flow::client_credentials));
  REQUIRE(client.authenticate());
  auto bad_options = sf.options(crm::auth_flow::client_credentials);
  bad_options.client_secret = "wrong";
  crm::salesforce_client bad(bad_options);
  auto refused = bad.authenticate();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().is(crm_errc::auth_failed));
  CHECK(refused.error().message().find("wrong") == std::string::npos);
  auto no_key = sf.options();
  no_key.private_key_file = "/nonexistent/key.pem";
  auto missing = crm::salesforce_client(no_key).authenticate();
  REQUIRE_FALSE(missing);
  CHECK(missing.error().is(crm_errc::config));
}

TEST_CASE("failures are classified for the drainer's retry policy", "[crm][client]") {
  local_salesforce sf;
  auto options = sf.options();
  options.request_timeout = std::chrono::milliseconds(300);
  crm::salesforce_client client(options);
  REQUIRE(client.authenticate());
  const std::vector<json> one = {json{{"Farm_Id__c", "u-1"}, {"LastName", "X"}}};
  auto expect = [&](const json& fault, crm_errc code) {
    sf.admin("faults", {{"queue", {fault}}});
    auto r = client.upsert_collection("Contact", "Farm_Id__c", one);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(code));
    CHECK(is_transient(code));
  };
  expect({{"kind", "unavailable"}}, crm_errc::server_error);
  expect({{"kind", "server_error"}}, crm_errc::server_error);
  expect({{"kind", "lock_row"}}, crm_errc::unable_to_lock);
  expect({{"kind", "limit"}}, crm_errc::limit_exceeded);
  expect({{"kind", "timeout"}, {"seconds", 1}}, crm_errc::timeout);
  expect({{"kind", "drop"}}, crm_errc::transport);
  auto bad_field = client.upsert_collection("Contact", "Farm_Id__c",
                                            {json{{"Farm_Id__c", "u-2"}, {"Bogus__c", 1}}});
  REQUIRE_FALSE(bad_field);
  CHECK(bad_field.error().is(crm_errc::rejected));
  CHECK_FALSE(is_transient(crm_errc::rejected));
  // And it still works afterwards (the connection is re-established).
  CHECK(client.upsert_collection("Contact", "Farm_Id__c", one));
}

TEST_CASE("bulk upsert through Bulk API 2.0 reports every record", "[crm][client]") {
  local_salesforce sf;
  crm::salesforce_client client(sf.options());
  std::vector<json> records;
  for (int i = 0; i < 500; ++i) {
    records.push_back({{"Farm_Id__c", "b-" + std::to_string(i)},
                       {"LastName", i == 7 ? std::string(100, 'x') : "Name, \"quoted\""},
                       {"FirstName", nullptr},
                       {"Credit_Balance__c", i}});
  }
  auto outcomes = client.bulk_upsert("Contact", "Farm_Id__c", records);
  REQUIRE(outcomes);
  CHECK(outcomes->size() == 500);
  int failed = 0;
  for (const auto& [key, o] : *outcomes) {
    if (!o.success) {
      ++failed;
      CHECK(key == "b-7");
      CHECK(o.status_code == "STRING_TOO_LONG");
    }
  }
  CHECK(failed == 1);
  CHECK(client.api_calls() <= 8);
  auto back =
      client.query("SELECT Id, LastName, Credit_Balance__c FROM Contact WHERE Farm_Id__c = 'b-3'");
  REQUIRE(back);
  REQUIRE(back->size() == 1);
  CHECK((*back)[0]["LastName"] == "Name, \"quoted\"");
  CHECK((*back)[0]["Credit_Balance__c"] == 3);
}
