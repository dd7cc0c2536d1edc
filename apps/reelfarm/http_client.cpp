#include "http_client.hpp"

#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <mutex>

#include "reelfarm/common/signals.hpp"

namespace reelfarm::app {

std::string_view category_of(ctl_errc) noexcept {
  return "ctl";
}

std::string_view to_string(ctl_errc code) noexcept {
  switch (code) {
    case ctl_errc::unreachable:
      return "unreachable";
    case ctl_errc::server:
      return "server";
    case ctl_errc::refused:
      return "refused";
    case ctl_errc::malformed:
      return "malformed";
    case ctl_errc::local:
      return "local";
    case ctl_errc::interrupted:
      return "interrupted";
  }
  return "unknown";
}

namespace {

using clock = std::chrono::steady_clock;

struct transfer {
  const http_request& request;
  CURL* curl;
  http_response response;
  clock::time_point last_byte = clock::now();
  bool silent = false;
  bool sink_stopped = false;
};

std::string lowercase(std::string text) {
  for (auto& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  std::string line(data, size * n);
  t->last_byte = clock::now();
  if (line.starts_with("HTTP/")) {
    t->response.headers.clear();  // a new answer (after 100 Continue)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of("\r\n \t") + 1);
    t->response.headers[lowercase(line.substr(0, colon))] = value;
  }
  return size * n;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  t->last_byte = clock::now();
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->response.status);
  bool success = t->response.status >= 200 && t->response.status < 300;
  if (!t->request.sink || !success) {
    t->response.body.append(data, size * n);
    return size * n;
  }
  if (!t->request.sink(t->response, std::string_view(data, size * n))) {
    t->sink_stopped = true;
    return 0;
  }
  return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<transfer*>(user);
  if (signals::stop_requested()) {
    return 1;
  }
  auto limit = t->request.silence_limit;
  if (limit.count() > 0 && clock::now() - t->last_byte > limit) {
    t->silent = true;
    return 1;
  }
  return 0;
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

curl_slist* header_list(const http_request& request) {
  curl_slist* list = nullptr;
  for (const auto& h : request.headers) {
    list = curl_slist_append(list, h.c_str());
  }
  if (request.body) {
    list = curl_slist_append(list, "Content-Type: application/json");
  }
  return curl_slist_append(list, "Accept: application/json, text/event-stream, */*");
}

void set_options(transfer& t, curl_slist* headers) {
  const auto& r = t.request;
  CURL* c = t.curl;
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  if (r.body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body->size()));
  } else if (r.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "reelfarm-ctl");
}

result<http_response> finish(transfer& t, CURLcode code, const char* detail) {
  if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && t.sink_stopped)) {
    curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &t.response.status);
    return std::move(t.response);
  }
  if (signals::stop_requested()) {
    return error(ctl_errc::interrupted, "interrupted");
  }
  if (t.silent) {
    return error(ctl_errc::unreachable, "no data from " + t.request.url + " for " +
                                            std::to_string(t.request.silence_limit.count()) + " s");
  }
  std::string why = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  return error(ctl_errc::unreachable, "cannot reach " + t.request.url + ": " + why);
}

}  // namespace

result<http_response> http_perform(const http_request& request) {
  init_curl_once();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    return error(ctl_errc::local, "cannot start libcurl");
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(header_list(request),
                                                                      curl_slist_free_all);
  transfer t{request, curl.get(), {}};
  char detail[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, detail);
  set_options(t, headers.get());
  auto code = curl_easy_perform(curl.get());
  return finish(t, code, detail);
}

}  // namespace reelfarm::app
