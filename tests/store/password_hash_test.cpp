#include <catch2/catch.hpp>

#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/password_hash.hpp"

using namespace reelfarm;

namespace {

// Cheap enough for tests; production uses the interactive setting.
password_cost cheap() {
  return {1, 8u << 20};
}

}  // namespace

TEST_CASE("passwords hash with Argon2id and verify", "[password]") {
  auto hash = hash_password("correct horse", cheap());
  REQUIRE(hash);
  CHECK_THAT(*hash, Catch::StartsWith("$argon2id$"));
  CHECK(hash->find("correct horse") == std::string::npos);
  CHECK(verify_password("correct horse", *hash));
  CHECK_FALSE(verify_password("correct horsE", *hash));
  CHECK_FALSE(verify_password("", *hash));
  auto again = hash_password("correct horse", cheap());
  REQUIRE(again);
  CHECK(*again != *hash);  // salted
}

TEST_CASE("a hash of another algorithm or cost needs a rehash", "[password]") {
  auto hash = hash_password("pw", cheap());
  REQUIRE(hash);
  CHECK_FALSE(password_needs_rehash(*hash, cheap()));
  CHECK(password_needs_rehash(*hash, default_password_cost()));
  CHECK(password_needs_rehash("$2b$10$abcdefghijklmnopqrstuv", cheap()));
  CHECK_FALSE(verify_password("pw", "$2b$10$abcdefghijklmnopqrstuv"));
  CHECK_FALSE(verify_password("pw", "plain"));
}

TEST_CASE("empty and oversized passwords are refused", "[password]") {
  auto empty = hash_password("", cheap());
  REQUIRE_FALSE(empty);
  CHECK(empty.error().is(store_errc::invalid_argument));
  REQUIRE_FALSE(hash_password(std::string(2000, 'x'), cheap()));
}
