#include "reelfarm/store/password_hash.hpp"

#include <sodium.h>

#include <map>
#include <mutex>
#include <utility>

#include "reelfarm/store/errc.hpp"

namespace reelfarm {
namespace {

constexpr std::size_t max_password_bytes = 1024;

bool sodium_ready() {
  // sodium_init is idempotent and thread-safe; it returns 1 when already done.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

password_cost default_password_cost() noexcept {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

result<std::string> hash_password(std::string_view password, password_cost cost) {
  if (password.empty() || password.size() > max_password_bytes) {
    return error(store_errc::invalid_argument, "a password must have between 1 and 1024 bytes");
  }
  if (!sodium_ready()) {
    return error(store_errc::password, "libsodium could not be initialised");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.ops, cost.memory,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return error(store_errc::password, "Argon2id hashing ran out of memory");
  }
  return std::string(out);
}

bool verify_password(std::string_view password, const std::string& hash) {
  if (!sodium_ready() || password.size() > max_password_bytes ||
      hash.rfind(crypto_pwhash_argon2id_STRPREFIX, 0) != 0) {
    return false;
  }
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

result<std::string> decoy_password_hash(password_cost cost) {
  // Keyed by cost: a decoy must cost exactly what the real hashes of the
  // caller cost, or the difference is the tell.
  static std::mutex mutex;
  static std::map<std::pair<unsigned long long, std::size_t>, std::string> made;
  std::lock_guard lock(mutex);
  auto key = std::make_pair(cost.ops, cost.memory);
  if (auto it = made.find(key); it != made.end()) {
    return it->second;
  }
  if (!sodium_ready()) {
    return error(store_errc::password, "libsodium could not be initialised");
  }
  // 32 random bytes, base64: a password no one can guess or reuse; it is
  // never kept, only its hash.
  unsigned char secret[32];
  randombytes_buf(secret, sizeof secret);
  char text[sodium_base64_ENCODED_LEN(sizeof secret, sodium_base64_VARIANT_ORIGINAL)];
  sodium_bin2base64(text, sizeof text, secret, sizeof secret, sodium_base64_VARIANT_ORIGINAL);
  sodium_memzero(secret, sizeof secret);
  auto hash = hash_password(text, cost);
  sodium_memzero(text, sizeof text);
  if (!hash) {
    return hash.error();
  }
  made.emplace(key, *hash);
  return hash;
}

bool password_needs_rehash(const std::string& hash, password_cost cost) {
  if (!sodium_ready() || hash.rfind(crypto_pwhash_argon2id_STRPREFIX, 0) != 0) {
    return true;
  }
  return crypto_pwhash_str_needs_rehash(hash.c_str(), cost.ops, cost.memory) != 0;
}

}  // namespace reelfarm
