#pragma once

#include <filesystem>
#include <string>

#include "reelfarm/common/result.hpp"

namespace reelfarm::media {

/// The SHA-256 of a file's bytes as lowercase hex (libsodium).
result<std::string> sha256_file(const std::filesystem::path& file);

}  // namespace reelfarm::media
