#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"

namespace reelfarm::crm {

/// One HTTP request.
struct http_request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value"
  std::string body;
};

/// One HTTP response, headers kept for the few the client reads.
struct http_response {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< lower-case names

  /// The first header named `name` (lower case), or "".
  std::string header(std::string_view name) const;
};

/// A libcurl easy handle reused across requests, so connections are kept
/// alive. Not thread-safe: one per thread.
class http_client {
 public:
  http_client(std::chrono::milliseconds timeout, std::chrono::milliseconds connect_timeout);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Performs the request; fails with crm_errc::timeout or crm_errc::transport
  /// when no complete response arrived.
  result<http_response> perform(const http_request& request);

  /// Percent-encodes a form or URL component.
  std::string escape(std::string_view text);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace reelfarm::crm
