#pragma once

#include <chrono>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/youtube/oauth_client.hpp"

namespace reelfarm::youtube {

/// One user's access token, refreshed from their refresh token when it is
/// about to expire or when YouTube answered 401. Lives in memory only.
class access_token_cache {
 public:
  access_token_cache(oauth_client& oauth, std::string refresh_token)
      : oauth_(oauth), refresh_token_(std::move(refresh_token)) {}

  /// A token valid for at least another minute.
  result<std::string> get();
  /// A new token even if the cached one has not expired (after a 401).
  result<std::string> renew();
  /// How many times a token was fetched from the token endpoint.
  int refreshes() const noexcept { return refreshes_; }

 private:
  oauth_client& oauth_;
  std::string refresh_token_;
  std::string access_token_;
  std::chrono::steady_clock::time_point expires_at_{};
  int refreshes_ = 0;
};

}  // namespace reelfarm::youtube
