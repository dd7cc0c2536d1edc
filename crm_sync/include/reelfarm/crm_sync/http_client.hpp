#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/common/http_client.hpp"
#include "reelfarm/common/result.hpp"

namespace reelfarm::crm {

/// One HTTP request; the body is owned (Salesforce bodies are built per call).
struct http_request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value"
  std::string body;
};

/// One HTTP response; header names in lower case.
using http_response = http::response;

/// The common HTTP client with its failures in the CRM's error codes
/// (transport, timeout), which the drainer's retry rules read. Responses are
/// bounded (64 MiB: far above any Salesforce answer). Not thread-safe: one
/// per thread.
class http_client {
 public:
  http_client(std::chrono::milliseconds timeout, std::chrono::milliseconds connect_timeout)
      : client_(timeout, connect_timeout, 64 << 20) {}

  /// Performs the request; fails with crm_errc::timeout or crm_errc::transport
  /// when no complete response arrived.
  result<http_response> perform(const http_request& request);
  /// Percent-encodes a form or URL component.
  std::string escape(std::string_view text) const { return http::url_encode(text); }

 private:
  http::client client_;
};

}  // namespace reelfarm::crm
