#include "reelfarm/media/checksum.hpp"

#include <sodium.h>

#include <fstream>
#include <vector>

#include "reelfarm/media/errc.hpp"

namespace reelfarm::media {

result<std::string> sha256_file(const std::filesystem::path& file) {
  if (sodium_init() < 0) {
    return error(media_errc::io, "libsodium could not be initialised");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return error(media_errc::io, "cannot read " + file.string() + " to checksum it");
  }
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<char> buffer(1 << 16);
  while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buffer.data()),
                              static_cast<unsigned long long>(in.gcount()));
  }
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex);
}

}  // namespace reelfarm::media
