#include "reelfarm/store/password_hash.hpp"

#include <sodium.h>

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

bool password_needs_rehash(const std::string& hash, password_cost cost) {
  if (!sodium_ready() || hash.rfind(crypto_pwhash_argon2id_STRPREFIX, 0) != 0) {
    return true;
  }
  return crypto_pwhash_str_needs_rehash(hash.c_str(), cost.ops, cost.memory) != 0;
}

}  // namespace reelfarm
