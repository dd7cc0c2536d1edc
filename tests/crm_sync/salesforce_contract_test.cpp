// Contract tests of the local Salesforce: the documented status codes, bodies
// and headers, so the client and drainer tests run against the real shapes.
#include <fstream>

#include <catch2/catch.hpp>

#include "reelfarm/crm_sync/http_client.hpp"
#include "reelfarm/crm_sync/jwt.hpp"
#include "support/local_salesforce.hpp"

using nlohmann::json;
using reelfarm::crm::http_client;
using reelfarm::crm::http_response;
using reelfarm::testing::local_salesforce;

namespace {

/// A raw session: token from client credentials, then plain HTTP calls.
struct session {
  local_salesforce& sf;
  http_client http{std::chrono::seconds(10), std::chrono::seconds(5)};
  std::string token;

  explicit session(local_salesforce& s) : sf(s) {
    auto r = http.perform({"POST",
                           sf.url() + "/services/oauth2/token",
                           {"Content-Type: application/x-www-form-urlencoded"},
                           std::string("grant_type=client_credentials&client_id=") +
                               local_salesforce::client_id +
                               "&client_secret=" + local_salesforce::client_secret});
    REQUIRE(r);
    REQUIRE(r->status == 200);
    token = json::parse(r->body)["access_token"];
  }

  http_response call(const std::string& method, const std::string& path, const json& body = {}) {
    auto r = http.perform({method,
                           sf.url() + "/services/data/v59.0/" + path,
                           {"Authorization: Bearer " + token, "Content-Type: application/json"},
                           body.is_null() ? "" : body.dump()});
    REQUIRE(r);
    return *r;
  }
};

json contact(const std::string& key, const std::string& last = "Lovelace") {
  return {{"Farm_Id__c", key},
          {"LastName", last},
          {"Email", key + "@example.com"},
          {"Subscription_Tier__c", "Pro"},
          {"Credit_Balance__c", 30}};
}

}  // namespace

TEST_CASE("token endpoint: JWT bearer verified with RS256, client credentials checked",
          "[crm][contract]") {
  local_salesforce sf;
  http_client http(std::chrono::seconds(10), std::chrono::seconds(5));
  auto key_pem = [&] {
    std::ifstream in(sf.private_key_file());
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  auto token = [&](const std::string& body) {
    auto r = http.perform({"POST",
                           sf.url() + "/services/oauth2/token",
                           {"Content-Type: application/x-www-form-urlencoded"},
                           body});
    REQUIRE(r);
    return *r;
  };
  auto assertion = [&](reelfarm::crm::jwt_claims c) {
    auto a = reelfarm::crm::make_jwt_assertion(key_pem, c);
    REQUIRE(a);
    return "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + *a;
  };
  const auto soon = std::chrono::system_clock::now() + std::chrono::minutes(2);
  reelfarm::crm::jwt_claims good{local_salesforce::client_id, local_salesforce::username,
                                 "https://login.salesforce.com", soon};

  auto ok = token(assertion(good));
  CHECK(ok.status == 200);
  auto body = json::parse(ok.body);
  CHECK(body["token_type"] == "Bearer");
  CHECK(body["instance_url"] == sf.url());
  CHECK(!body["access_token"].get<std::string>().empty());

  auto wrong_issuer = good;
  wrong_issuer.issuer = "someone-else";
  auto r = token(assertion(wrong_issuer));
  CHECK(r.status == 400);
  CHECK(json::parse(r.body)["error"] == "invalid_client_id");

  auto expired = good;
  expired.expires = std::chrono::system_clock::now() - std::chrono::minutes(1);
  CHECK(json::parse(token(assertion(expired)).body)["error"] == "invalid_grant");

  auto tampered = assertion(good);
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  r = token(tampered);
  CHECK(r.status == 400);
  CHECK(json::parse(r.body)["error"] == "invalid_grant");

  CHECK(token(std::string("grant_type=client_credentials&client_id=") +
              local_salesforce::client_id + "&client_secret=" + local_salesforce::client_secret)
            .status == 200);
  r = token(std::string("grant_type=client_credentials&client_id=") + local_salesforce::client_id +
            "&client_secret=wrong");
  CHECK(r.status == 400);
  CHECK(json::parse(r.body)["error"] == "invalid_client");
  CHECK(token("grant_type=password").status == 400);
}

TEST_CASE("single upsert by external id: 201 created, 200 updated, errors as Salesforce",
          "[crm][contract]") {
  local_salesforce sf;
  session s(sf);
  auto created = s.call("PATCH", "sobjects/Contact/Farm_Id__c/u-1", contact("u-1"));
  CHECK(created.status == 201);
  auto cbody = json::parse(created.body);
  CHECK(cbody["success"] == true);
  CHECK(cbody["created"] == true);
  CHECK(cbody["id"].get<std::string>().size() == 18);
  CHECK(created.header("sforce-limit-info") == "api-usage=1/100000");

  auto updated = s.call("PATCH", "sobjects/Contact/Farm_Id__c/u-1", {{"LastName", "King"}});
  CHECK(updated.status == 200);
  CHECK(json::parse(updated.body)["created"] == false);
  CHECK(json::parse(updated.body)["id"] == cbody["id"]);

  auto by_ext = s.call("GET", "sobjects/Contact/Farm_Id__c/u-1");
  CHECK(by_ext.status == 200);
  CHECK(json::parse(by_ext.body)["LastName"] == "King");
  auto by_id = s.call("GET", "sobjects/Contact/" + cbody["id"].get<std::string>());
  CHECK(json::parse(by_id.body)["Farm_Id__c"] == "u-1");
  CHECK(json::parse(by_id.body)["attributes"]["type"] == "Contact");

  auto unknown =
      s.call("PATCH", "sobjects/Contact/Farm_Id__c/u-2", {{"LastName", "X"}, {"Nickname__c", "x"}});
  CHECK(unknown.status == 400);
  CHECK(json::parse(unknown.body)[0]["errorCode"] == "INVALID_FIELD");
  CHECK(json::parse(unknown.body)[0]["message"] ==
        "No such column 'Nickname__c' on sobject of type Contact");

  auto wrong_type = s.call("PATCH", "sobjects/Contact/Farm_Id__c/u-2",
                           {{"LastName", "X"}, {"Credit_Balance__c", "lots"}});
  CHECK(wrong_type.status == 400);
  CHECK(json::parse(wrong_type.body)[0]["errorCode"] == "JSON_PARSER_ERROR");

  auto too_long =
      s.call("PATCH", "sobjects/Contact/Farm_Id__c/u-2", {{"LastName", std::string(81, 'x')}});
  CHECK(too_long.status == 400);
  auto tl = json::parse(too_long.body)[0];
  CHECK(tl["errorCode"] == "STRING_TOO_LONG");
  CHECK(tl["fields"] == json::array({"LastName"}));

  auto picklist = s.call("PATCH", "sobjects/Contact/Farm_Id__c/u-2",
                         {{"LastName", "X"}, {"Subscription_Tier__c", "Platinum"}});
  CHECK(json::parse(picklist.body)[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");

  auto required = s.call("PATCH", "sobjects/Contact/Farm_Id__c/u-2", {{"Email", "a@b.io"}});
  CHECK(json::parse(required.body)[0]["errorCode"] == "REQUIRED_FIELD_MISSING");

  auto lookup = s.call("PATCH", "sobjects/AI_Project__c/Farm_Id__c/p-1",
                       {{"Name", "Film"}, {"User__r", {{"Farm_Id__c", "nobody"}}}});
  CHECK(lookup.status == 400);
  CHECK(json::parse(lookup.body)[0]["message"] ==
        "Foreign key external ID: nobody not found for field Farm_Id__c in entity Contact");

  CHECK(s.call("PATCH", "sobjects/Nope__c/Farm_Id__c/1", json::object()).status == 404);
  CHECK(s.call("PATCH", "sobjects/Contact/Email/x", json::object()).status == 404);
  CHECK(s.call("GET", "sobjects/Contact/Farm_Id__c/none").status == 404);
}

TEST_CASE("sObject Collections upsert: per-record results in order, allOrNone, 200 cap",
          "[crm][contract]") {
  local_salesforce sf;
  session s(sf);
  REQUIRE(s.call("PATCH", "sobjects/Contact/Farm_Id__c/u-1", contact("u-1")).status == 201);
  auto record = [](const std::string& key, json extra) {
    json r = {{"attributes", {{"type", "AI_Project__c"}}},
              {"Farm_Id__c", key},
              {"Name", "Film " + key},
              {"User__r", {{"Farm_Id__c", "u-1"}}}};
    r.update(extra);
    return r;
  };
  json body = {
      {"allOrNone", false},
      {"records",
       {record("p-1", {{"Status__c", "Draft"}}), record("p-2", {{"Status__c", "Rendering"}}),
        record("p-3", {{"User__r", {{"Farm_Id__c", "ghost"}}}}),
        record("p-4", {{"Duration_Minutes__c", 2.5}})}}};
  auto r = s.call("PATCH", "composite/sobjects/AI_Project__c/Farm_Id__c", body);
  REQUIRE(r.status == 200);
  auto results = json::parse(r.body);
  REQUIRE(results.size() == 4);
  CHECK(results[0]["success"] == true);
  CHECK(results[0]["created"] == true);
  CHECK(results[1]["success"] == false);
  CHECK(results[1]["errors"][0]["statusCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
  CHECK(results[1]["errors"][0]["fields"] == json::array({"Status__c"}));
  CHECK(results[2]["errors"][0]["statusCode"] == "INVALID_FIELD");
  CHECK(results[3]["success"] == true);

  auto again = json::parse(s.call("PATCH", "composite/sobjects/AI_Project__c/Farm_Id__c",
                                  {{"records", {record("p-1", json::object())}}})
                               .body);
  CHECK(again[0]["created"] == false);

  json all_or_none = {
      {"allOrNone", true},
      {"records", {record("p-9", json::object()), record("p-10", {{"Status__c", "Nope"}})}}};
  auto aon =
      json::parse(s.call("PATCH", "composite/sobjects/AI_Project__c/Farm_Id__c", all_or_none).body);
  CHECK(aon[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  CHECK(s.call("GET", "sobjects/AI_Project__c/Farm_Id__c/p-9").status == 404);

  json dup = {{"records", {record("p-5", json::object()), record("p-5", json::object())}}};
  auto d = json::parse(s.call("PATCH", "composite/sobjects/AI_Project__c/Farm_Id__c", dup).body);
  CHECK(d[0]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID");

  json many = {{"records", json::array()}};
  for (int i = 0; i < 201; ++i) {
    many["records"].push_back(record("m-" + std::to_string(i), json::object()));
  }
  auto over = s.call("PATCH", "composite/sobjects/AI_Project__c/Farm_Id__c", many);
  CHECK(over.status == 400);
  CHECK(json::parse(over.body)[0]["errorCode"] == "EXCEEDED_ID_LIMIT");
}

TEST_CASE("SOQL subset and query paging", "[crm][contract]") {
  local_salesforce sf;
  session s(sf);
  json many = {{"records", json::array()}};
  for (int i = 0; i < 150; ++i) {
    json c = contact("q-" + std::to_string(i));
    c["attributes"] = {{"type", "Contact"}};
    many["records"].push_back(c);
  }
  REQUIRE(s.call("PATCH", "composite/sobjects/Contact/Farm_Id__c", many).status == 200);
  auto q = json::parse(
      s.call("GET", "query?q=SELECT+Id%2C+LastName+FROM+Contact+WHERE+Farm_Id__c+%3D+%27q-7%27")
          .body);
  CHECK(q["totalSize"] == 1);
  CHECK(q["done"] == true);
  CHECK(q["records"][0]["LastName"] == "Lovelace");
  auto all = json::parse(s.call("GET", "query?q=SELECT+Id+FROM+Contact").body);
  CHECK(all["totalSize"] == 150);
  auto filtered = json::parse(
      s.call(
           "GET",
           "query?q=SELECT+Farm_Id__c+FROM+Contact+WHERE+Farm_Id__c+IN+(%27q-1%27,%27Q-2%27)"
           "+AND+Credit_Balance__c+%3E%3D+30+AND+Email+!%3D+null+ORDER+BY+Farm_Id__c+DESC+LIMIT+5")
          .body);
  REQUIRE(filtered["totalSize"] == 2);
  CHECK(filtered["records"][0]["Farm_Id__c"] == "q-2");
  auto like = json::parse(
      s.call("GET", "queryAll?q=SELECT+COUNT()+FROM+Contact+WHERE+Farm_Id__c+LIKE+%27q-1%25%27")
          .body);
  CHECK(like["totalSize"] == 61);  // q-1, q-10..q-19, q-100..q-149
  auto describe = json::parse(s.call("GET", "sobjects/AI_Credit__c/describe").body);
  bool refund = false;
  for (const auto& f : describe["fields"]) {
    if (f["name"] == "Transaction_Type__c") {
      for (const auto& v : f["picklistValues"]) {
        refund = refund || v["value"] == "Refund";
      }
    }
  }
  CHECK(refund);
  auto bad = s.call("GET", "query?q=SELECT+Bogus__c+FROM+Contact");
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body)[0]["errorCode"] == "INVALID_FIELD");
}

TEST_CASE("Bulk API 2.0 ingest: job, CSV upload, close, poll, results", "[crm][contract]") {
  local_salesforce sf;
  session s(sf);
  auto job = json::parse(s.call("POST", "jobs/ingest",
                                {{"object", "Contact"},
                                 {"externalIdFieldName", "Farm_Id__c"},
                                 {"contentType", "CSV"},
                                 {"operation", "upsert"},
                                 {"lineEnding", "LF"}})
                             .body);
  CHECK(job["state"] == "Open");
  const std::string path = "jobs/ingest/" + job["id"].get<std::string>();
  auto up = s.http.perform({"PUT",
                            sf.url() + "/services/data/v59.0/" + path + "/batches",
                            {"Authorization: Bearer " + s.token, "Content-Type: text/csv"},
                            "Farm_Id__c,LastName,Subscription_Tier__c\nb-1,One,Pro\n"
                            "b-2,\"Two, Jr\",Gold\n"});
  REQUIRE(up);
  CHECK(up->status == 201);
  CHECK(json::parse(s.call("PATCH", path, {{"state", "UploadComplete"}}).body)["state"] ==
        "UploadComplete");
  std::string state;
  for (int i = 0; i < 5 && state != "JobComplete"; ++i) {
    state = json::parse(s.call("GET", path).body)["state"];
  }
  CHECK(state == "JobComplete");
  auto ok = s.call("GET", path + "/successfulResults/");
  CHECK(ok.body.starts_with("sf__Id,sf__Created,Farm_Id__c,LastName,Subscription_Tier__c\n"));
  CHECK(ok.body.find(",true,b-1,One,Pro") != std::string::npos);
  auto failed = s.call("GET", path + "/failedResults/");
  CHECK(failed.body.find("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST") != std::string::npos);
}

TEST_CASE("faults on demand, 401 for bad sessions, limit exhaustion", "[crm][contract]") {
  local_salesforce sf({"--api-limit", "5"});
  session s(sf);
  sf.admin("faults",
           {{"queue",
             {{{"kind", "unavailable"}}, {{"kind", "lock_row"}}, {{"kind", "expire_session"}}}}});
  CHECK(s.call("GET", "sobjects/Contact/Farm_Id__c/x").status == 503);
  auto lock = s.call("GET", "sobjects/Contact/Farm_Id__c/x");
  CHECK(json::parse(lock.body)[0]["errorCode"] == "UNABLE_TO_LOCK_ROW");
  auto expired = s.call("GET", "sobjects/Contact/Farm_Id__c/x");
  CHECK(expired.status == 401);
  CHECK(json::parse(expired.body)[0]["errorCode"] == "INVALID_SESSION_ID");
  session fresh(sf);
  sf.admin("faults", {{"queue", {{{"kind", "drop"}}}}});
  // A new connection: libcurl silently retries a request whose reused
  // connection died, which would hide the drop.
  http_client new_connection(std::chrono::seconds(10), std::chrono::seconds(5));
  auto dropped = new_connection.perform({"GET",
                                         sf.url() + "/services/data/v59.0/query?q=x",
                                         {"Authorization: Bearer " + fresh.token},
                                         ""});
  CHECK_FALSE(dropped);
  for (int i = 0; i < 5; ++i) {
    fresh.call("GET", "query?q=SELECT+Id+FROM+Contact");
  }
  auto limited = fresh.call("GET", "query?q=SELECT+Id+FROM+Contact");
  CHECK(limited.status == 403);
  CHECK(json::parse(limited.body)[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED");
  CHECK(limited.header("sforce-limit-info") == "api-usage=6/5");
}
