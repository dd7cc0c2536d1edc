#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of the common module: configuration, processes, files.
enum class common_errc {
  invalid_argument = 1,  ///< a value given by a person or program is not acceptable
  config_file,           ///< the configuration file cannot be read or parsed
  config_unknown_key,    ///< a key the configuration does not have
  config_type,           ///< a value of the wrong type
  config_range,          ///< a value outside its allowed range or set
  io,                    ///< a file or directory operation failed
  process,               ///< a child process could not be started or failed
  timeout,               ///< something did not happen in the time allowed
  interrupted,           ///< stopped by a signal (SIGINT/SIGTERM)
  transport,             ///< a network request got no complete answer (refused, reset)
  invalid_response,      ///< a peer answered something unusable (e.g. a body over its bound)
};

std::string_view category_of(common_errc) noexcept;
std::string_view to_string(common_errc code) noexcept;

}  // namespace reelfarm
