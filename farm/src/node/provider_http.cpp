// The HTTP client of the generation backends. Keys go only into the
// Authorization header; log lines name method, URL without query, status and
// milliseconds, so a debug log can be shared with a provider's support.
#include "provider_http.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <mutex>

#include <curl/curl.h>

#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/errc.hpp"

namespace reelfarm::farm {

std::string provider_response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

std::string loggable_url(std::string_view url) {
  return std::string(url.substr(0, url.find('?')));
}

struct provider_http::impl {
  std::string component;
  std::string api_key;
  std::chrono::milliseconds timeout;
  std::size_t max_body;
  CURL* curl = nullptr;
};

namespace {

struct body_sink {
  std::string* text = nullptr;
  std::FILE* file = nullptr;
  std::size_t size = 0;
  std::size_t max = 0;
  bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* sink = static_cast<body_sink*>(user);
  std::size_t n = size * count;
  if (sink->size + n > sink->max) {
    sink->too_large = true;
    return 0;  // aborts the transfer: a provider cannot fill the node's memory or disk
  }
  sink->size += n;
  if (sink->file != nullptr) {
    return std::fwrite(data, 1, n, sink->file);
  }
  sink->text->append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  std::string_view line(data, size * count);
  auto* response = static_cast<provider_response*>(user);
  auto colon = line.find(':');
  if (line.starts_with("HTTP/")) {
    response->headers.clear();
  } else if (colon != std::string_view::npos && response->headers.size() < 100) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
      value.remove_suffix(1);
    }
    response->headers.emplace_back(std::move(name), std::string(value.substr(0, 4096)));
  }
  return size * count;
}

}  // namespace

provider_http::provider_http(std::string component, std::string api_key,
                             std::chrono::milliseconds timeout, std::size_t max_body)
    : impl_(std::make_unique<impl>()) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->component = std::move(component);
  impl_->api_key = std::move(api_key);
  impl_->timeout = timeout;
  impl_->max_body = max_body;
  impl_->curl = curl_easy_init();
}

provider_http::~provider_http() {
  if (impl_ && impl_->curl != nullptr) {
    curl_easy_cleanup(impl_->curl);
  }
}

namespace {

// Runs a prepared handle; `what` names the request in errors and logs.
result<provider_response> run_handle(provider_http::impl& s, CURL* curl, curl_slist* headers,
                                     body_sink& sink, provider_response& response,
                                     const std::string& method, const std::string& url) {
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(s.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  auto started = std::chrono::steady_clock::now();
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  auto where = method + " " + loggable_url(url);
  if (sink.too_large) {
    return error(farm_errc::backend,
                 where + ": the response is larger than " + std::to_string(sink.max) + " bytes");
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return error(farm_errc::timeout,
                 where + ": no answer within " + std::to_string(s.timeout.count()) + " ms");
  }
  if (code != CURLE_OK) {
    return error(farm_errc::backend, where + " failed: " + curl_easy_strerror(code));
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  log::debug(s.component, "http", {{"request", where}, {"status", response.status}, {"ms", ms}});
  return response;
}

curl_slist* base_headers(const provider_http::impl& s, const std::vector<std::string>& extra,
                         bool authorized) {
  curl_slist* headers = nullptr;
  if (authorized && !s.api_key.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + s.api_key).c_str());
  }
  for (const auto& h : extra) {
    headers = curl_slist_append(headers, h.c_str());
  }
  return curl_slist_append(headers, "Expect:");
}

}  // namespace

result<provider_response> provider_http::perform(const provider_request& r) {
  CURL* curl = impl_->curl;
  if (curl == nullptr) {
    return error(farm_errc::backend, "libcurl could not create a handle");
  }
  curl_easy_reset(curl);
  auto extra = r.headers;
  if (!r.content_type.empty()) {
    extra.push_back("Content-Type: " + r.content_type);
  }
  extra.push_back("Accept: application/json");
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  if (r.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  provider_response response;
  body_sink sink{&response.body, nullptr, 0, impl_->max_body};
  return run_handle(*impl_, curl, base_headers(*impl_, extra, true), sink, response, r.method,
                    r.url);
}

result<provider_response> provider_http::post_multipart(
    const std::string& url, const std::vector<std::pair<std::string, std::string>>& fields,
    const std::string& file_field, const std::filesystem::path& file) {
  CURL* curl = impl_->curl;
  if (curl == nullptr) {
    return error(farm_errc::backend, "libcurl could not create a handle");
  }
  curl_easy_reset(curl);
  curl_mime* mime = curl_mime_init(curl);
  for (const auto& [name, value] : fields) {
    auto* part = curl_mime_addpart(mime);
    curl_mime_name(part, name.c_str());
    curl_mime_data(part, value.c_str(), CURL_ZERO_TERMINATED);
  }
  auto* part = curl_mime_addpart(mime);
  curl_mime_name(part, file_field.c_str());
  curl_mime_filedata(part, file.c_str());
  curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
  provider_response response;
  body_sink sink{&response.body, nullptr, 0, impl_->max_body};
  auto out = run_handle(*impl_, curl, base_headers(*impl_, {"Accept: application/json"}, true),
                        sink, response, "POST", url);
  curl_mime_free(mime);
  return out;
}

result<long> provider_http::download(const std::string& url, const std::filesystem::path& file,
                                     std::size_t max_bytes, bool authorized) {
  CURL* curl = impl_->curl;
  if (curl == nullptr) {
    return error(farm_errc::backend, "libcurl could not create a handle");
  }
  curl_easy_reset(curl);
  auto part = file;
  part += ".part";
  std::FILE* out = std::fopen(part.c_str(), "wb");
  if (out == nullptr) {
    return error(farm_errc::backend, "cannot write " + part.string());
  }
  provider_response response;
  body_sink sink{nullptr, out, 0, max_bytes};
  auto done =
      run_handle(*impl_, curl, base_headers(*impl_, {}, authorized), sink, response, "GET", url);
  bool flushed = std::fclose(out) == 0;
  std::error_code ec;
  if (!done || done->status != 200 || !flushed) {
    std::filesystem::remove(part, ec);
    if (!done) {
      return done.error();
    }
    return done->status;
  }
  std::filesystem::rename(part, file, ec);
  if (ec) {
    return error(farm_errc::backend, "cannot rename " + part.string() + ": " + ec.message());
  }
  return 200L;
}

std::string provider_http::escape(std::string_view text) {
  char* e = curl_easy_escape(impl_->curl, text.data(), static_cast<int>(text.size()));
  std::string out = e != nullptr ? e : "";
  curl_free(e);
  return out;
}

}  // namespace reelfarm::farm
