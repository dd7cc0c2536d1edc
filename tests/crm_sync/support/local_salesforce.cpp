#include "local_salesforce.hpp"

#include <chrono>
#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "reelfarm/crm_sync/http_client.hpp"

namespace reelfarm::testing {

namespace {

void write_key_pair(const std::filesystem::path& private_file,
                    const std::filesystem::path& public_file) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (key == nullptr) {
    throw std::runtime_error("OpenSSL could not generate an RSA key");
  }
  BIO* priv = BIO_new_file(private_file.c_str(), "w");
  BIO* pub = BIO_new_file(public_file.c_str(), "w");
  PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_PUBKEY(pub, key);
  BIO_free(priv);
  BIO_free(pub);
  EVP_PKEY_free(key);
}

}  // namespace

std::filesystem::path sfdx_dir() {
  return std::filesystem::path(REELFARM_SOURCE_DIR) / "crm_sync" / "sfdx";
}

local_salesforce::local_salesforce(std::vector<std::string> extra_args) {
  key_file_ = dir_.path() / "jwt.key";
  const auto public_file = dir_.path() / "jwt.pub";
  write_key_pair(key_file_, public_file);
  const auto port_file = dir_.path() / "port";
  process_options opts;
  opts.argv = {
      REELFARM_PYTHON3,
      std::string(REELFARM_SOURCE_DIR) + "/tests/crm_sync/local_salesforce/local_salesforce.py",
      "--metadata",
      sfdx_dir().string(),
      "--port-file",
      port_file.string(),
      "--public-key",
      public_file.string(),
      "--client-id",
      client_id,
      "--client-secret",
      client_secret,
      "--username",
      username};
  opts.argv.insert(opts.argv.end(), extra_args.begin(), extra_args.end());
  opts.output_file = (dir_.path() / "server.log").string();
  auto child = child_process::spawn(opts);
  if (!child) {
    throw std::runtime_error(child.error().full_text());
  }
  server_ = std::move(*child);
  for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) {
    if (!server_.running()) {
      throw std::runtime_error("the local Salesforce exited; see " + opts.output_file);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::ifstream in(port_file);
  int port = 0;
  if (!(in >> port) || port <= 0) {
    throw std::runtime_error("the local Salesforce did not start");
  }
  url_ = "http://127.0.0.1:" + std::to_string(port);
}

local_salesforce::~local_salesforce() {
  server_.signal(SIGKILL);
  server_.wait_for(std::chrono::seconds(5));
}

crm::crm_options local_salesforce::options(crm::auth_flow flow) const {
  crm::crm_options o;
  o.login_url = url_;
  o.flow = flow;
  o.client_id = client_id;
  o.client_secret = client_secret;
  o.username = username;
  o.private_key_file = key_file_.string();
  o.request_timeout = std::chrono::seconds(5);
  o.backoff_base = std::chrono::milliseconds(20);
  o.backoff_cap = std::chrono::milliseconds(500);
  o.limit_pause = std::chrono::milliseconds(200);
  o.poll_interval = std::chrono::milliseconds(200);
  o.send_interval = std::chrono::milliseconds(50);
  o.bulk_poll_interval = std::chrono::milliseconds(20);
  return o;
}

nlohmann::json local_salesforce::admin(const std::string& what, const nlohmann::json& body) {
  crm::http_client http(std::chrono::seconds(10), std::chrono::seconds(5));
  auto r = http.perform(
      {"POST", url_ + "/__admin/" + what, {"Content-Type: application/json"}, body.dump()});
  if (!r || r->status != 200) {
    throw std::runtime_error("admin call " + what + " failed");
  }
  return nlohmann::json::parse(r->body);
}

nlohmann::json local_salesforce::stats() {
  crm::http_client http(std::chrono::seconds(10), std::chrono::seconds(5));
  auto r = http.perform({"GET", url_ + "/__admin/stats", {}, ""});
  if (!r || r->status != 200) {
    throw std::runtime_error("admin stats failed");
  }
  return nlohmann::json::parse(r->body);
}

}  // namespace reelfarm::testing
