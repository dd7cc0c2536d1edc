#include "local_stripe.hpp"

#include <chrono>
#include <csignal>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "reelfarm/common/http_client.hpp"

namespace reelfarm::testing {

namespace {

using http_client = http::client;

http_client make_client() {
  return http_client(std::chrono::seconds(30), std::chrono::seconds(5), 64 << 20);
}

}  // namespace

local_stripe::local_stripe(std::string webhook_url) {
  const auto port_file = dir_.path() / "port";
  process_options opts;
  opts.argv = {REELFARM_PYTHON3,
               std::string(REELFARM_SOURCE_DIR) + "/tests/billing/local_stripe/local_stripe.py",
               "--port",
               "0",
               "--port-file",
               port_file.string(),
               "--secret-key",
               secret_key,
               "--webhook-secret",
               webhook_secret};
  if (!webhook_url.empty()) {
    opts.argv.push_back("--webhook-url");
    opts.argv.push_back(webhook_url);
  }
  opts.output_file = (dir_.path() / "server.log").string();
  auto child = child_process::spawn(opts);
  if (!child) {
    throw std::runtime_error(child.error().full_text());
  }
  server_ = std::move(*child);
  for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) {
    if (!server_.running()) {
      throw std::runtime_error("the local Stripe exited; see " + opts.output_file);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::ifstream in(port_file);
  int port = 0;
  if (!(in >> port) || port <= 0) {
    throw std::runtime_error("the local Stripe did not start; see " + opts.output_file);
  }
  url_ = "http://127.0.0.1:" + std::to_string(port);
}

local_stripe::~local_stripe() {
  server_.signal(SIGKILL);
  server_.wait_for(std::chrono::seconds(5));
}

nlohmann::json local_stripe::control(const std::string& method, const std::string& path,
                                     const nlohmann::json& body) {
  const auto full = path.starts_with('/') ? path : "/_control/" + path;
  auto http = make_client();
  const auto text = body.dump();
  const bool has_body = method != "GET" && method != "DELETE";
  auto r = http.perform({method,
                         url_ + full,
                         {"Content-Type: application/json"},
                         has_body ? std::string_view(text) : std::string_view(),
                         {}});
  if (!r) {
    throw std::runtime_error("control " + method + " " + full + ": " + r.error().full_text());
  }
  if (r->status < 200 || r->status >= 300) {
    throw std::runtime_error("control " + method + " " + full + ": " + std::to_string(r->status) +
                             " " + r->body);
  }
  return nlohmann::json::parse(r->body);
}

local_stripe::api_response local_stripe::api(const std::string& method, const std::string& path,
                                             const std::string& form_body,
                                             const std::vector<std::string>& headers) {
  auto http = make_client();
  std::vector<std::string> all = {std::string("Authorization: Bearer ") + secret_key};
  all.insert(all.end(), headers.begin(), headers.end());
  std::string target = url_ + path;
  std::string_view body;
  if (method == "POST") {
    all.push_back("Content-Type: application/x-www-form-urlencoded");
    body = form_body;
  } else if (!form_body.empty()) {
    target += (path.find('?') == std::string::npos ? "?" : "&") + form_body;
  }
  auto r = http.perform({method, target, all, body, {}});
  if (!r) {
    throw std::runtime_error("api " + method + " " + path + ": " + r.error().full_text());
  }
  api_response out;
  out.status = r->status;
  out.body = nlohmann::json::parse(r->body, nullptr, false);
  out.request_id = r->header("request-id");
  out.replayed = r->header("idempotent-replayed") == "true";
  return out;
}

nlohmann::json local_stripe::wait_for_deliveries(std::chrono::seconds timeout) {
  return control("POST", "webhook/wait", {{"timeout_s", timeout.count()}})["deliveries"];
}

}  // namespace reelfarm::testing
