#pragma once

#include <chrono>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/youtube/http_client.hpp"
#include "reelfarm/youtube/youtube_options.hpp"

namespace reelfarm::youtube {

/// What Google's token endpoint grants.
struct token_grant {
  std::string access_token;
  std::string refresh_token;  ///< only from the authorization code exchange
  std::chrono::seconds expires_in{3600};
  std::string scope;
};

/// Google's OAuth 2.0 authorization-code flow for installed web servers:
/// the consent URL (offline access, so a refresh token comes back), the code
/// exchange, token refresh and revocation. Not thread-safe.
class oauth_client {
 public:
  explicit oauth_client(const youtube_options& options);

  /// The consent page for `state` (response_type=code, access_type=offline,
  /// prompt=consent so Google issues a refresh token every time).
  std::string consent_url(const std::string& state) const;

  /// Exchanges an authorization code (grant_type=authorization_code).
  result<token_grant> exchange_code(const std::string& code);

  /// A fresh access token (grant_type=refresh_token); invalid_grant when
  /// the user or an admin revoked the refresh token.
  result<token_grant> refresh(const std::string& refresh_token);

  /// Revokes a refresh (or access) token at Google. An already revoked or
  /// unknown token counts as revoked.
  result<void> revoke(const std::string& token);

 private:
  result<token_grant> token_request(const std::string& form, bool expect_refresh_token);

  youtube_options options_;
  http_client http_;
};

}  // namespace reelfarm::youtube
