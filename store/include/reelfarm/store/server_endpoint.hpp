#pragma once

#include <sys/types.h>

#include <string>

namespace reelfarm {

/// Where a running server answers and what it is.
struct server_endpoint {
  std::string address;  ///< DSN (PostgreSQL) or URL (Redis), with credentials
  int port = 0;
  pid_t pid = 0;
  std::string version;       ///< as the server reports it
  bool initialized = false;  ///< true when this start created the data
};

}  // namespace reelfarm
