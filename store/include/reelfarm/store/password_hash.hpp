#pragma once

#include <string>
#include <string_view>

#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// How hard Argon2id works per hash (libsodium's opslimit/memlimit).
struct password_cost {
  unsigned long long ops = 2;        ///< crypto_pwhash_OPSLIMIT_INTERACTIVE
  std::size_t memory = 64ull << 20;  ///< crypto_pwhash_MEMLIMIT_INTERACTIVE (64 MiB)
};

/// The cost used for new hashes: libsodium's interactive Argon2id setting.
password_cost default_password_cost() noexcept;

/// Hashes a password with Argon2id into a self-describing "$argon2id$..."
/// string (salt and cost included). Empty passwords and ones over 1024 bytes
/// are refused.
result<std::string> hash_password(std::string_view password,
                                  password_cost cost = default_password_cost());

/// True when `password` matches `hash`; false for a wrong password or a
/// hash that is not an Argon2id string.
bool verify_password(std::string_view password, const std::string& hash);

/// An Argon2id hash, made with `cost`, of a random password nobody knows:
/// logins for an email that has no account verify against it, so they cost
/// what a wrong password costs and timing does not tell which emails exist.
/// Made once per process and cost (the first call pays one hash) and kept.
result<std::string> decoy_password_hash(password_cost cost = default_password_cost());

/// True when `hash` was made with a different algorithm or cost than `cost`
/// and should be replaced after the next successful login.
bool password_needs_rehash(const std::string& hash, password_cost cost = default_password_cost());

}  // namespace reelfarm
