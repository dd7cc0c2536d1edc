#include "reelfarm/billing/stripe_client.hpp"

#include <thread>

#include "json_fields.hpp"
#include "reelfarm/billing/errc.hpp"
#include "reelfarm/common/errc.hpp"
#include "reelfarm/common/log.hpp"

namespace reelfarm::billing {
namespace {

using json = nlohmann::json;

// Stripe's answers are small; a list page of 100 invoices stays far below.
constexpr std::size_t max_response_body = 4 << 20;

// Stripe's libraries: retry a network failure, a 409 (a concurrent request
// with the same key, or a lock) and a 5xx, unless Stripe-Should-Retry says
// otherwise; never another 4xx (a declined card stays declined).
bool should_retry(const http::response& r) {
  const auto hint = r.header("stripe-should-retry");
  if (hint == "false") {
    return false;
  }
  if (hint == "true") {
    return true;
  }
  return r.status == 409 || r.status >= 500;
}

// "POST /v1/checkout/sessions answered 400 invalid_request_error/parameter_missing
// (param success_url): Missing required param ... [request req_123]".
error stripe_error(const std::string& what, const http::response& r) {
  auto body = json::parse(r.body, nullptr, false);
  const json* e = nullptr;
  if (body.is_object()) {
    if (auto it = body.find("error"); it != body.end() && it->is_object()) {
      e = &*it;
    }
  }
  std::string text = what + " answered " + std::to_string(r.status);
  if (e != nullptr) {
    auto type = text_of(*e, "type");
    auto code = text_of(*e, "code");
    text += " " + type + (code.empty() ? "" : "/" + code);
    if (auto decline = text_of(*e, "decline_code"); !decline.empty()) {
      text += " (" + decline + ")";
    }
    if (auto param = text_of(*e, "param"); !param.empty()) {
      text += " (param " + param + ")";
    }
    text += ": " + text_of(*e, "message");
  } else {
    text += " without Stripe's error object";
  }
  if (auto id = r.header("request-id"); !id.empty()) {
    text += " [request " + id + "]";
  }
  if (r.status == 401 || r.status == 403) {
    return error(billing_errc::stripe_auth, text);
  }
  if (r.status == 402) {
    return error(billing_errc::stripe_card, text);
  }
  if (r.status == 409 || r.status == 429 || r.status >= 500) {
    return error(billing_errc::stripe_unavailable, text);
  }
  return error(billing_errc::stripe_refused, text);
}

std::string path_of(std::string_view path) {
  std::string p(path);
  return p.starts_with('/') ? p : "/" + p;
}

}  // namespace

std::string form_encode(const stripe_params& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) {
      out += '&';
    }
    out += http::url_encode(key);
    out += '=';
    out += http::url_encode(value);
  }
  return out;
}

stripe_client::stripe_client(stripe_client_options options,
                             std::function<void(std::chrono::milliseconds)> sleep)
    : options_(std::move(options)),
      sleep_(std::move(sleep)),
      backoff_(options_.backoff_base, options_.backoff_cap) {
  if (!sleep_) {
    sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  }
}

result<json> stripe_client::post(std::string_view path, const stripe_params& params,
                                 const std::string& idempotency_key) {
  return call("POST", path, form_encode(params), idempotency_key);
}

result<json> stripe_client::get(std::string_view path, const stripe_params& query) {
  std::string full = path_of(path);
  if (!query.empty()) {
    full += "?" + form_encode(query);
  }
  return call("GET", full, {}, {});
}

result<json> stripe_client::del(std::string_view path, const std::string& idempotency_key) {
  return call("DELETE", path, {}, idempotency_key);
}

stripe_call_stats stripe_client::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

result<json> stripe_client::call(const std::string& method, std::string_view path,
                                 const std::string& body, const std::string& idempotency_key) {
  const auto full = path_of(path);
  const auto what = method + " /v1" + http::url_for_logs(full);
  if (options_.secret_key.empty()) {
    return error(billing_errc::disabled, what + ": no Stripe secret key is configured");
  }
  if (method != "GET" && (idempotency_key.empty() || idempotency_key.size() > 255)) {
    // Without a key a retried POST could charge twice: refuse to send one.
    return error(billing_errc::invalid_request,
                 what + " needs an Idempotency-Key of 1 to 255 characters");
  }
  http::request request;
  request.method = method;
  request.url = options_.api_base + "/v1" + full;
  request.headers = {"Authorization: Bearer " + options_.secret_key,
                     std::string("Stripe-Version: ") + stripe_api_version,
                     "User-Agent: Reelfarm/1.0"};
  if (method != "GET") {
    request.headers.push_back("Idempotency-Key: " + idempotency_key);
    request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    request.body = body;
  }
  http::client http(options_.timeout, options_.connect_timeout, max_response_body);
  for (int attempt = 0;; ++attempt) {
    {
      std::lock_guard lock(mutex_);
      ++stats_.requests;
    }
    auto response = http.perform(request);
    std::optional<error> failure;
    bool again = false;
    if (!response) {
      // A body over the bound is no network failure: retrying reads it again.
      again = !response.error().is(common_errc::invalid_response);
      failure = error(again ? billing_errc::stripe_unavailable : billing_errc::stripe_bad_response,
                      response.error().message());
    } else if (response->status >= 200 && response->status < 300) {
      auto parsed = json::parse(response->body, nullptr, false);
      if (!parsed.is_object()) {
        return error(
            billing_errc::stripe_bad_response,
            what + " answered " + std::to_string(response->status) + " without a JSON object");
      }
      return parsed;
    } else {
      failure = stripe_error(what, *response);
      again = should_retry(*response);
    }
    if (!again || attempt >= options_.max_retries) {
      if (again) {
        return error(billing_errc::stripe_unavailable,
                     failure->message() + " (after " + std::to_string(attempt + 1) + " attempts)");
      }
      return *failure;
    }
    std::chrono::milliseconds wait;
    {
      std::lock_guard lock(mutex_);
      ++stats_.retries;
      wait = backoff_.delay(attempt);
    }
    log::info("billing", "retrying a Stripe request",
              {{"request", what}, {"attempt", attempt + 1}, {"error", failure->message()}});
    sleep_(wait);
  }
}

}  // namespace reelfarm::billing
