#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reelfarm/common/result.hpp"

/// The one HTTP client of the vendor clients (YouTube, Stripe): libcurl,
/// bounded bodies, no redirects followed, secrets kept out of errors.
namespace reelfarm::http {

/// One HTTP request. `body` is a view so a chunk of a film is sent from the
/// caller's buffer without a copy.
struct request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value"
  std::string_view body;
  /// Whole-request limit; 0: the client's default.
  std::chrono::milliseconds timeout{0};
};

/// One HTTP response; header names in lower case.
struct response {
  long status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  /// The first header named `name` (lower case), or "".
  std::string header(std::string_view name) const;
};

/// A libcurl easy handle reused across requests (connections kept alive).
/// Response bodies are bounded: a larger one is an error, never read on.
/// Not thread-safe: one per thread.
class client {
 public:
  client(std::chrono::milliseconds timeout, std::chrono::milliseconds connect_timeout,
         std::size_t max_body = 1 << 20);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Performs the request; fails with common_errc::timeout or ::transport
  /// when no complete response arrived, ::invalid_response when the body
  /// exceeds the bound. Error messages name the method and the URL without
  /// its query (an upload session URI's query is a credential).
  result<response> perform(const request& r);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Percent-encodes `text` for a query string or a form body (RFC 3986
/// unreserved characters stay as they are).
std::string url_encode(std::string_view text);

/// `url` without its query and fragment: what logs and errors may show.
std::string url_for_logs(std::string_view url);

}  // namespace reelfarm::http
