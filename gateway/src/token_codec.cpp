#include "reelfarm/gateway/token_codec.hpp"

#include <sodium.h>

#include <cstdio>
#include <random>
#include <vector>

namespace reelfarm::gateway {

namespace {
constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

// libsodium must be initialised once before its random generator is used.
void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
}
}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, &end, variant) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::string random_token(std::size_t bytes) {
  ensure_sodium();
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return base64url_encode(raw);
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

std::string random_request_id() {
  // Request ids need uniqueness, not secrecy: a per-thread generator seeded
  // from the system CSPRNG avoids a getrandom() system call per request.
  thread_local std::mt19937_64 engine = [] {
    ensure_sodium();
    std::seed_seq seed{randombytes_random(), randombytes_random(), randombytes_random(),
                       randombytes_random()};
    return std::mt19937_64(seed);
  }();
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(engine()),
                static_cast<unsigned long long>(engine()));
  return std::string(hex, 32);
}

}  // namespace reelfarm::gateway
