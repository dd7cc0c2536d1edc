#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "reelfarm/common/result.hpp"

/// The login of `reelfarm ctl`: the API it was made against and the token
/// pair, kept in a file only its owner can read.
namespace reelfarm::app {

struct credentials {
  std::string api;  ///< base URL, ".../api/v1"
  std::string email;
  std::string access_token;
  std::string refresh_token;
};

/// REELFARM_CREDENTIALS, else $XDG_CONFIG_HOME/reelfarm/credentials.json,
/// else ~/.config/reelfarm/credentials.json.
std::filesystem::path credentials_path();

/// The stored login, or nullopt when there is none. A file that is not a
/// credentials file is an error naming it.
result<std::optional<credentials>> load_credentials(const std::filesystem::path& file);

/// Writes the file atomically with mode 0600; a missing folder is created 0700.
result<void> save_credentials(const std::filesystem::path& file, const credentials& c);

/// Deletes the file; no file is not an error.
result<void> remove_credentials(const std::filesystem::path& file);

}  // namespace reelfarm::app
