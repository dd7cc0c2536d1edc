#include "reelfarm/youtube/access_token_cache.hpp"

namespace reelfarm::youtube {

result<std::string> access_token_cache::get() {
  if (!access_token_.empty() &&
      std::chrono::steady_clock::now() + std::chrono::minutes(1) < expires_at_) {
    return access_token_;
  }
  return renew();
}

result<std::string> access_token_cache::renew() {
  access_token_.clear();
  auto grant = oauth_.refresh(refresh_token_);
  if (!grant) {
    return std::move(grant).error();
  }
  ++refreshes_;
  access_token_ = grant->access_token;
  expires_at_ = std::chrono::steady_clock::now() + grant->expires_in;
  return access_token_;
}

}  // namespace reelfarm::youtube
