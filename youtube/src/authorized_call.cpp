#include "reelfarm/youtube/authorized_call.hpp"

#include "reelfarm/youtube/errc.hpp"

namespace reelfarm::youtube {

namespace {

bool retryable_status(long status) {
  return status == 500 || status == 502 || status == 503 || status == 504;
}

}  // namespace

result<http_response> authorized_call(http_client& http, access_token_cache& tokens,
                                      http_request request, backoff& waits,
                                      const retry_settings& retry) {
  const auto plain_headers = request.headers;
  bool renewed = false;
  for (int attempt = 0;; ++attempt) {
    auto token = tokens.get();
    if (!token) {
      return std::move(token).error();
    }
    request.headers = plain_headers;
    request.headers.push_back("Authorization: Bearer " + *token);
    auto response = http.perform(request);
    if (response && response->status == 401 && !renewed) {
      renewed = true;
      if (auto fresh = tokens.renew(); !fresh) {
        return std::move(fresh).error();
      }
      --attempt;  // a renewal is not a failure
      continue;
    }
    bool transient = !response || retryable_status(response->status);
    if (!transient || attempt >= retry.max_retries) {
      return response;
    }
    if (!waits.wait(attempt, retry.stop)) {
      return error(youtube_errc::cancelled, "stopped while waiting to retry a YouTube call");
    }
  }
}

}  // namespace reelfarm::youtube
