#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <pqxx/connection>

#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// `dsn` with a connect timeout unless it sets one itself: libpq would
/// otherwise wait forever for a server that never answers. Handles both the
/// key=value and the URI form.
std::string with_connect_timeout(const std::string& dsn, std::chrono::milliseconds timeout);

/// Opens a libpqxx connection; the error names the server (never the password).
result<std::unique_ptr<pqxx::connection>> connect_postgres(const std::string& dsn);

/// The server's version string (`SHOW server_version`).
result<std::string> postgres_server_version(pqxx::connection& conn);

}  // namespace reelfarm
