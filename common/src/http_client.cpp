#include "reelfarm/common/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>

#include <curl/curl.h>

#include "reelfarm/common/errc.hpp"

namespace reelfarm::http {

std::string response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

struct client::impl {
  CURL* curl = nullptr;
  std::chrono::milliseconds timeout;
  std::chrono::milliseconds connect_timeout;
  std::size_t max_body;
};

namespace {

struct body_sink {
  std::string* out;
  std::size_t limit;
  bool overflow = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<body_sink*>(user);
  const std::size_t n = size * count;
  if (sink->out->size() + n > sink->limit) {
    // Returning less than given makes libcurl abort the transfer: a body
    // larger than any documented answer is never buffered.
    sink->overflow = true;
    return 0;
  }
  sink->out->append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  std::string_view line(data, size * count);
  auto* into = static_cast<response*>(user);
  auto colon = line.find(':');
  if (line.starts_with("HTTP/")) {
    // A new response (after a 100 Continue): forget the previous headers.
    into->headers.clear();
  } else if (colon != std::string_view::npos && into->headers.size() < 200) {
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
    into->headers.emplace_back(std::move(name), std::string(value));
  }
  return size * count;
}

}  // namespace

client::client(std::chrono::milliseconds timeout, std::chrono::milliseconds connect_timeout,
               std::size_t max_body)
    : impl_(std::make_unique<impl>()) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->curl = curl_easy_init();
  impl_->timeout = timeout;
  impl_->connect_timeout = connect_timeout;
  impl_->max_body = max_body;
}

client::~client() {
  if (impl_ && impl_->curl) {
    curl_easy_cleanup(impl_->curl);
  }
}

result<response> client::perform(const request& r) {
  CURL* curl = impl_->curl;
  const std::string what = r.method + " " + url_for_logs(r.url);
  if (curl == nullptr) {
    return error(common_errc::transport, "libcurl could not create a handle");
  }
  curl_easy_reset(curl);
  response out;
  body_sink sink{&out.body, impl_->max_body};
  curl_slist* headers = nullptr;
  for (const auto& h : r.headers) {
    headers = curl_slist_append(headers, h.c_str());
  }
  // No "Expect: 100-continue" round trip before each chunk.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, r.url.c_str());
  if (r.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r.body.data() ? r.body.data() : "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  auto timeout = r.timeout.count() > 0 ? r.timeout : impl_->timeout;
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(impl_->connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (sink.overflow) {
    return error(common_errc::invalid_response,
                 what + " answered with a body over " + std::to_string(impl_->max_body) + " bytes");
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return error(common_errc::timeout, what + " got no answer within the request timeout");
  }
  if (code != CURLE_OK) {
    return error(common_errc::transport, what + " failed: " + curl_easy_strerror(code));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

std::string url_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string url_for_logs(std::string_view url) {
  auto end = url.find_first_of("?#");
  return std::string(url.substr(0, end));
}

}  // namespace reelfarm::http
