#include "reelfarm/store/postgres.hpp"

#include <pqxx/pqxx>

#include "reelfarm/common/log.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm {

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
