#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "reelfarm/common/result.hpp"
#include "reelfarm/youtube/token_cipher.hpp"

namespace reelfarm::youtube {

/// How long a consent page may stay open before its callback is refused.
inline constexpr std::chrono::seconds oauth_state_lifetime{600};

/// What a verified OAuth state says.
struct oauth_state {
  std::string user_id;  ///< whose channel is being connected
  std::string id;       ///< random, unique per state: the single-use key
  std::string binding;  ///< oauth_binding() of the browser's nonce cookie
  std::chrono::system_clock::time_point expires_at;
};

/// The value a state carries for a browser nonce: its SHA-256 in hex, so the
/// state (which passes through Google and the address bar) never holds the
/// nonce itself.
std::string oauth_binding(std::string_view nonce);

/// The OAuth `state` for `user_id`, bound to the browser that holds the
/// nonce whose oauth_binding() is `binding`:
/// "user.expiry.id.binding.mac", signed with the token key, so the callback
/// (which carries no bearer token: Google's redirect comes from the user's
/// browser) learns whose channel it is, and no one can forge a state or
/// redirect a callback to another account.
std::string make_oauth_state(const token_cipher& cipher, const std::string& user_id,
                             const std::string& binding, std::chrono::system_clock::time_point now);

/// What a state was made for; youtube_errc::invalid_state when it is
/// malformed, forged or expired. The caller checks the binding against the
/// browser's cookie and that the state is used once.
result<oauth_state> verify_oauth_state(const token_cipher& cipher, const std::string& state,
                                       std::chrono::system_clock::time_point now);

}  // namespace reelfarm::youtube
