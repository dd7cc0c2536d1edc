#pragma once

#include <chrono>
#include <cstddef>

#include "reelfarm/common/http_client.hpp"

namespace reelfarm::youtube {

using http_request = http::request;
using http_response = http::response;
using http::url_encode;
using http::url_for_logs;

/// The common HTTP client with its failures in YouTube's error codes
/// (transport, timeout, invalid_response), which the upload worker's retry
/// rules read. Not thread-safe: one per thread.
class http_client {
 public:
  http_client(std::chrono::milliseconds timeout, std::chrono::milliseconds connect_timeout,
              std::size_t max_body = 1 << 20)
      : client_(timeout, connect_timeout, max_body) {}

  /// http::client::perform, errors as youtube_errc.
  result<http_response> perform(const http_request& request);

 private:
  http::client client_;
};

}  // namespace reelfarm::youtube
