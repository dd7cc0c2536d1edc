#include "reelfarm/youtube/oauth_state.hpp"

#include <sodium.h>

#include <charconv>

#include "reelfarm/youtube/errc.hpp"

namespace reelfarm::youtube {

namespace {

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string make_oauth_state(const token_cipher& cipher, const std::string& user_id,
                             std::chrono::system_clock::time_point now) {
  unsigned char nonce[8];
  randombytes_buf(nonce, sizeof nonce);
  char hex[sizeof nonce * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, nonce, sizeof nonce);
  auto message = user_id + "." + std::to_string(unix_seconds(now + oauth_state_lifetime)) + "." +
                 std::string(hex);
  return message + "." + cipher.sign(message);
}

result<std::string> verify_oauth_state(const token_cipher& cipher, const std::string& state,
                                       std::chrono::system_clock::time_point now) {
  auto invalid = [](const char* why) {
    return error(youtube_errc::invalid_state, std::string("the OAuth state is not valid: ") + why +
                                                  "; start again with GET /api/v1/youtube/connect");
  };
  if (state.size() > 512) {
    return invalid("too long");
  }
  auto mac_at = state.rfind('.');
  if (mac_at == std::string::npos) {
    return invalid("malformed");
  }
  auto message = std::string_view(state).substr(0, mac_at);
  if (!cipher.verify(message, std::string_view(state).substr(mac_at + 1))) {
    return invalid("its signature does not match");
  }
  auto first = message.find('.');
  auto second = message.find('.', first == std::string_view::npos ? first : first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) {
    return invalid("malformed");
  }
  auto expiry_text = message.substr(first + 1, second - first - 1);
  std::int64_t expiry = 0;
  auto [end, ec] =
      std::from_chars(expiry_text.data(), expiry_text.data() + expiry_text.size(), expiry);
  if (ec != std::errc() || end != expiry_text.data() + expiry_text.size()) {
    return invalid("malformed");
  }
  if (unix_seconds(now) > expiry) {
    return invalid("it expired (a consent page is good for 10 minutes)");
  }
  return std::string(message.substr(0, first));
}

}  // namespace reelfarm::youtube
