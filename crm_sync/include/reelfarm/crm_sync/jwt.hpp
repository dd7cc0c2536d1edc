#pragma once

#include <chrono>
#include <string>

#include "reelfarm/common/result.hpp"

namespace reelfarm::crm {

/// The claims of a Salesforce JWT bearer assertion.
struct jwt_claims {
  std::string issuer;    ///< connected app consumer key
  std::string subject;   ///< Salesforce username
  std::string audience;  ///< https://login.salesforce.com or test.salesforce.com
  std::chrono::system_clock::time_point expires;
};

/// `header.claims.signature`, RS256-signed with the PEM private key in `key_pem`.
result<std::string> make_jwt_assertion(const std::string& key_pem, const jwt_claims& claims);

/// base64url without padding, as JWTs use it.
std::string base64url(std::string_view bytes);

}  // namespace reelfarm::crm
