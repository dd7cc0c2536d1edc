#include "reelfarm/youtube/token_cipher.hpp"

#include <sodium.h>

#include <vector>

#include "reelfarm/youtube/errc.hpp"

namespace reelfarm::youtube {

namespace {

static_assert(crypto_secretbox_KEYBYTES == 32 && crypto_auth_KEYBYTES == 32);

std::string to_base64(const unsigned char* data, std::size_t size, int variant) {
  std::string out(sodium_base64_encoded_len(size, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

bool from_base64(std::string_view text, int variant, std::vector<unsigned char>& out) {
  out.assign(text.size(), 0);
  std::size_t length = 0;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &length, nullptr,
                        variant) != 0) {
    return false;
  }
  out.resize(length);
  return true;
}

// One master key, two purposes: derived subkeys so the MAC key never
// encrypts and the encryption key never signs.
void derive(const unsigned char* master, const char* purpose, std::array<unsigned char, 32>& out) {
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(purpose),
                     std::char_traits<char>::length(purpose), master, 32);
}

}  // namespace

result<token_cipher> token_cipher::create(std::string_view configured_key) {
  if (sodium_init() < 0) {
    return error(youtube_errc::crypto, "libsodium could not be initialised");
  }
  std::array<unsigned char, 32> master{};
  std::size_t length = 0;
  if (configured_key.size() == 64 &&
      sodium_hex2bin(master.data(), master.size(), configured_key.data(), configured_key.size(),
                     nullptr, &length, nullptr) == 0 &&
      length == 32) {
    // 64 hex digits: the key itself.
  } else if (configured_key.size() >= 32) {
    crypto_generichash(master.data(), master.size(),
                       reinterpret_cast<const unsigned char*>(configured_key.data()),
                       configured_key.size(), nullptr, 0);
  } else {
    return error(youtube_errc::config,
                 "youtube.token_key must be 64 hex digits or a passphrase of at least 32 "
                 "characters");
  }
  token_cipher c;
  derive(master.data(), "reelfarm.youtube.token", c.box_key_);
  derive(master.data(), "reelfarm.youtube.state", c.mac_key_);
  sodium_memzero(master.data(), master.size());
  return c;
}

std::string token_cipher::seal(std::string_view plaintext) const {
  std::vector<unsigned char> out(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
                                 plaintext.size());
  randombytes_buf(out.data(), crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(out.data() + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        out.data(), box_key_.data());
  return "v1:" + to_base64(out.data(), out.size(), sodium_base64_VARIANT_ORIGINAL);
}

result<std::string> token_cipher::open(std::string_view sealed) const {
  std::vector<unsigned char> raw;
  if (!sealed.starts_with("v1:") ||
      !from_base64(sealed.substr(3), sodium_base64_VARIANT_ORIGINAL, raw) ||
      raw.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return error(youtube_errc::crypto, "a stored YouTube token is not in the sealed format");
  }
  std::string plain(raw.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(
          reinterpret_cast<unsigned char*>(plain.data()), raw.data() + crypto_secretbox_NONCEBYTES,
          raw.size() - crypto_secretbox_NONCEBYTES, raw.data(), box_key_.data()) != 0) {
    return error(youtube_errc::crypto,
                 "a stored YouTube token cannot be decrypted: youtube.token_key changed or the "
                 "record was altered; the user must connect the channel again");
  }
  return plain;
}

std::string token_cipher::sign(std::string_view message) const {
  unsigned char mac[crypto_auth_BYTES];
  crypto_auth(mac, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
              mac_key_.data());
  return to_base64(mac, sizeof mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool token_cipher::verify(std::string_view message, std::string_view mac) const {
  std::vector<unsigned char> raw;
  if (!from_base64(mac, sodium_base64_VARIANT_URLSAFE_NO_PADDING, raw) ||
      raw.size() != crypto_auth_BYTES) {
    return false;
  }
  return crypto_auth_verify(raw.data(), reinterpret_cast<const unsigned char*>(message.data()),
                            message.size(), mac_key_.data()) == 0;
}

}  // namespace reelfarm::youtube
