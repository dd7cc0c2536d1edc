#include "reelfarm/store/postgres.hpp"

#include <algorithm>
#include <pqxx/pqxx>

#include "reelfarm/common/log.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm {

std::string with_connect_timeout(const std::string& dsn, std::chrono::milliseconds timeout) {
  if (dsn.find("connect_timeout") != std::string::npos) {
    return dsn;
  }
  // libpq counts whole seconds, and at least 2.
  auto seconds = std::to_string(std::max<long long>(2, (timeout.count() + 999) / 1000));
  if (dsn.starts_with("postgresql://") || dsn.starts_with("postgres://")) {
    return dsn + (dsn.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=" + seconds;
  }
  return dsn + (dsn.empty() ? "" : " ") + "connect_timeout=" + seconds;
}

result<std::unique_ptr<pqxx::connection>> connect_postgres(const std::string& dsn) {
  try {
    return std::make_unique<pqxx::connection>(dsn);
  } catch (const std::exception& e) {
    // libpq's message names host and port but never the password.
    return error(store_errc::connection,
                 "cannot connect to PostgreSQL (" + log::redact_dsn(dsn) + "): " + e.what());
  }
}

result<std::string> postgres_server_version(pqxx::connection& conn) {
  try {
    pqxx::read_transaction tx(conn);
    return tx.exec1("SHOW server_version")[0].as<std::string>();
  } catch (const std::exception& e) {
    return error(store_errc::query, std::string("cannot read the server version: ") + e.what());
  }
}

}  // namespace reelfarm
