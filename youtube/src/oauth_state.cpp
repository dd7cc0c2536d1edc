#include "reelfarm/youtube/oauth_state.hpp"

#include <sodium.h>

#include <array>
#include <charconv>

#include "reelfarm/youtube/errc.hpp"

namespace reelfarm::youtube {

namespace {

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string hex(const unsigned char* data, std::size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

bool plain_field(std::string_view text) {
  return !text.empty() && text.find('.') == std::string_view::npos;
}

}  // namespace

std::string oauth_binding(std::string_view nonce) {
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(nonce.data()),
                     nonce.size());
  return hex(digest.data(), digest.size());
}

std::string make_oauth_state(const token_cipher& cipher, const std::string& user_id,
                             const std::string& binding,
                             std::chrono::system_clock::time_point now) {
  unsigned char id[16];
  randombytes_buf(id, sizeof id);
  auto message = user_id + "." + std::to_string(unix_seconds(now + oauth_state_lifetime)) + "." +
                 hex(id, sizeof id) + "." + binding;
  return message + "." + cipher.sign(message);
}

result<oauth_state> verify_oauth_state(const token_cipher& cipher, const std::string& state,
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
  std::array<std::string_view, 4> parts;
  std::string_view rest = message;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto dot = i + 1 < parts.size() ? rest.find('.') : std::string_view::npos;
    if (i + 1 < parts.size() && dot == std::string_view::npos) {
      return invalid("malformed");
    }
    parts[i] = rest.substr(0, dot);
    rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    if (!plain_field(parts[i])) {
      return invalid("malformed");
    }
  }
  std::int64_t expiry = 0;
  auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), expiry);
  if (ec != std::errc() || end != parts[1].data() + parts[1].size()) {
    return invalid("malformed");
  }
  if (unix_seconds(now) > expiry) {
    return invalid("it expired (a consent page is good for 10 minutes)");
  }
  return oauth_state{std::string(parts[0]), std::string(parts[2]), std::string(parts[3]),
                     std::chrono::system_clock::time_point(std::chrono::seconds(expiry))};
}

}  // namespace reelfarm::youtube
