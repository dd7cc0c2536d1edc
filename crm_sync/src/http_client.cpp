#include "reelfarm/crm_sync/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

#include <curl/curl.h>

#include "reelfarm/crm_sync/errc.hpp"

namespace reelfarm::crm {

std::string http_response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

struct http_client::impl {
  CURL* curl = nullptr;
  std::chrono::milliseconds timeout;
  std::chrono::milliseconds connect_timeout;
};

namespace {

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  std::string_view line(data, size * count);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    static_cast<http_response*>(user)->headers.emplace_back(std::move(name), std::string(value));
  } else if (line.starts_with("HTTP/")) {
    // A new response (after a 100 Continue, say): forget the previous headers.
    static_cast<http_response*>(user)->headers.clear();
  }
  return size * count;
}

}  // namespace

http_client::http_client(std::chrono::milliseconds timeout,
                         std::chrono::milliseconds connect_timeout)
    : impl_(std::make_unique<impl>()) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->curl = curl_easy_init();
  impl_->timeout = timeout;
  impl_->connect_timeout = connect_timeout;
}

http_client::~http_client() {
  if (impl_ && impl_->curl) {
    curl_easy_cleanup(impl_->curl);
  }
}

result<http_response> http_client::perform(const http_request& request) {
  CURL* curl = impl_->curl;
  if (curl == nullptr) {
    return error(crm_errc::transport, "libcurl could not create a handle");
  }
  curl_easy_reset(curl);
  http_response response;
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) {
    headers = curl_slist_append(headers, h.c_str());
  }
  // No "Expect: 100-continue" round trip for large bodies.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(impl_->timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(impl_->connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return error(crm_errc::timeout, "Salesforce did not answer " + request.method + " " +
                                        request.url + " within the request timeout");
  }
  if (code != CURLE_OK) {
    return error(crm_errc::transport,
                 request.method + " " + request.url + " failed: " + curl_easy_strerror(code));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

std::string http_client::escape(std::string_view text) {
  char* escaped = curl_easy_escape(impl_->curl, text.data(), static_cast<int>(text.size()));
  std::string out = escaped ? escaped : "";
  curl_free(escaped);
  return out;
}

}  // namespace reelfarm::crm
