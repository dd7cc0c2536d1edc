#pragma once

#include <functional>

#include "reelfarm/common/backoff.hpp"
#include "reelfarm/common/result.hpp"
#include "reelfarm/youtube/access_token_cache.hpp"
#include "reelfarm/youtube/http_client.hpp"

namespace reelfarm::youtube {

/// How an authorized call retries.
struct retry_settings {
  int max_retries = 8;         ///< 5xx and network errors
  std::function<bool()> stop;  ///< interrupts backoff waits
};

/// Sends `request` with a bearer token from `tokens`: one renewal and retry
/// after a 401, retries of 500/502/503/504 and network errors with backoff.
/// Only for requests that are safe to repeat (no upload chunks). Returns the
/// final response, whatever its status, or the last transport error.
result<http_response> authorized_call(http_client& http, access_token_cache& tokens,
                                      http_request request, backoff& waits,
                                      const retry_settings& retry);

}  // namespace reelfarm::youtube
