#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "reelfarm/common/result.hpp"

namespace reelfarm::farm {

/// One request to a generation provider.
struct provider_request {
  std::string method = "GET";
  std::string url;
  std::string body;                  ///< sent for every method but GET
  std::string content_type;          ///< empty: none
  std::vector<std::string> headers;  ///< extra "Name: value" lines (not logged)
};

/// One response; headers with lower-case names.
struct provider_response {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  /// The first header named `name` (lower case), or "".
  std::string header(std::string_view name) const;
};

/// A small libcurl client shared by the HTTP backends: bounded timeouts,
/// bounded response bodies, an API key sent as `Authorization: Bearer` and
/// never written anywhere (request logs carry method, URL, status and time
/// only). One instance per thread (a render lease): it keeps one easy handle
/// so connections are reused while polling.
class provider_http {
 public:
  /// `component` names log lines; `api_key` may be empty (no Authorization).
  provider_http(std::string component, std::string api_key,
                std::chrono::milliseconds timeout = std::chrono::seconds(30),
                std::size_t max_body = 8u << 20);
  ~provider_http();
  provider_http(const provider_http&) = delete;
  provider_http& operator=(const provider_http&) = delete;

  /// Performs `r`; an HTTP error status is a response, not an error. Fails with
  /// farm_errc::timeout or farm_errc::backend when no complete response came.
  result<provider_response> perform(const provider_request& r);

  /// POSTs a multipart form: text `fields` and one file part `file_field`.
  result<provider_response> post_multipart(
      const std::string& url, const std::vector<std::pair<std::string, std::string>>& fields,
      const std::string& file_field, const std::filesystem::path& file);

  /// GETs `url` into `file` (at most `max_bytes`, via FILE.part). The API key
  /// is sent only when `authorized` (download hosts of providers differ).
  result<long> download(const std::string& url, const std::filesystem::path& file,
                        std::size_t max_bytes, bool authorized);

  /// Percent-encodes a URL component.
  std::string escape(std::string_view text);

  /// The implementation's state (the curl handle); not part of the interface.
  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

/// A URL without its query string, for logs (signed download URLs carry tokens).
std::string loggable_url(std::string_view url);

}  // namespace reelfarm::farm
