#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <pqxx/connection>

#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// Opens a libpqxx connection; the error names the server (never the password).
result<std::unique_ptr<pqxx::connection>> connect_postgres(const std::string& dsn);

/// The server's version string (`SHOW server_version`).
result<std::string> postgres_server_version(pqxx::connection& conn);

}  // namespace reelfarm
