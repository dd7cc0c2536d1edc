#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace reelfarm::gateway {

/// Base64url without padding (RFC 4648 section 5), as JWTs use it.
std::string base64url_encode(std::string_view bytes);
/// The inverse; nullopt for any character outside the alphabet or padding.
std::optional<std::string> base64url_decode(std::string_view text);
/// `bytes` random bytes from the system CSPRNG, base64url encoded.
std::string random_token(std::size_t bytes = 32);
/// Lower-case hex SHA-256 of `text` (refresh tokens are stored this way).
std::string sha256_hex(std::string_view text);
/// A random 16-byte id in hex, for requests without X-Request-Id.
std::string random_request_id();

}  // namespace reelfarm::gateway
