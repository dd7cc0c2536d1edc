#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "reelfarm/common/result.hpp"

namespace reelfarm::youtube {

/// Encrypts refresh tokens at rest (libsodium crypto_secretbox: XSalsa20 +
/// Poly1305, a random nonce per token) and signs OAuth states (HMAC,
/// crypto_auth) with keys derived from `youtube.token_key`. The key and the
/// plaintext are never logged or put in error messages.
class token_cipher {
 public:
  /// A cipher from the configured key: 64 hex digits (the key itself) or a
  /// passphrase of at least 32 characters (hashed to a key).
  static result<token_cipher> create(std::string_view configured_key);

  /// "v1:" + base64(nonce | ciphertext with tag).
  std::string seal(std::string_view plaintext) const;
  /// The plaintext of `sealed`; youtube_errc::crypto when it was sealed with
  /// another key or altered.
  result<std::string> open(std::string_view sealed) const;

  /// HMAC of `message` (crypto_auth, a key of its own), base64url.
  std::string sign(std::string_view message) const;
  /// True when `mac` is sign(message); constant time.
  bool verify(std::string_view message, std::string_view mac) const;

 private:
  std::array<unsigned char, 32> box_key_{};
  std::array<unsigned char, 32> mac_key_{};
};

}  // namespace reelfarm::youtube
