#pragma once

#include <chrono>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/youtube/token_cipher.hpp"

namespace reelfarm::youtube {

/// How long a consent page may stay open before its callback is refused.
inline constexpr std::chrono::seconds oauth_state_lifetime{600};

/// The OAuth `state` for `user_id`: "user.expiry.nonce.mac", signed with the
/// token key, so the callback (which carries no bearer token: Google's
/// redirect comes from the user's browser) learns whose channel it is and
/// no one can forge or redirect a callback to another account.
std::string make_oauth_state(const token_cipher& cipher, const std::string& user_id,
                             std::chrono::system_clock::time_point now);

/// The user a state was made for; youtube_errc::invalid_state when it is
/// malformed, forged or expired.
result<std::string> verify_oauth_state(const token_cipher& cipher, const std::string& state,
                                       std::chrono::system_clock::time_point now);

}  // namespace reelfarm::youtube
