#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "reelfarm/common/result.hpp"

namespace reelfarm::gateway {

/// The claims of a Reelfarm access token.
struct jwt_claims {
  std::string subject;          ///< the user id ("sub")
  std::string role;             ///< "creator" or "admin"
  std::string issuer;           ///< "iss"
  std::int64_t issued_at = 0;   ///< "iat", seconds since the epoch
  std::int64_t expires_at = 0;  ///< "exp", seconds since the epoch
  /// "ver": the user's token_version when the token was issued; the
  /// gateway refuses the token once the user's current version differs.
  std::int64_t version = 0;
  /// "sid": the refresh-token family (the login session) the token was
  /// issued for; logging that session out ends the token too.
  std::string session;
};

/// Signs `claims` as a compact JWS with HS256 (header {"alg":"HS256","typ":"JWT"}).
std::string jwt_sign(const jwt_claims& claims, std::string_view secret);

/// Verifies a compact JWS: the header's alg must be exactly HS256 (none, RS256
/// and anything else are refused: the algorithm is pinned, never taken from
/// the token), the signature must match in constant time, iss must equal
/// `issuer`, iat must not lie in the future (beyond `leeway`), exp must lie
/// after `now`. token_invalid or token_expired otherwise.
result<jwt_claims> jwt_verify(std::string_view token, std::string_view secret,
                              std::string_view issuer, std::int64_t now, std::int64_t leeway = 60);

}  // namespace reelfarm::gateway
