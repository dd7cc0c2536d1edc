#include "reelfarm/youtube/channel_repository.hpp"

#include <pqxx/pqxx>

#include "reelfarm/store/project_repository.hpp"
#include "reelfarm/youtube/errc.hpp"

namespace reelfarm::youtube {

namespace {

constexpr const char* columns =
    "user_id::text, refresh_token, channel_id, channel_title, "
    "to_char(connected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

channel_record from_row(const pqxx::row& row) {
  return {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
          row[3].as<std::string>(), row[4].as<std::string>()};
}

error failed(const char* what, const std::exception& e) {
  return error(youtube_errc::database, std::string("cannot ") + what + ": " + e.what());
}

}  // namespace

result<channel_record> channel_repository::save(const std::string& user_id,
                                                const std::string& sealed_refresh_token,
                                                const std::string& channel_id,
                                                const std::string& channel_title,
                                                const std::string& scope) {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    auto row = tx.exec_params1(
        std::string("INSERT INTO youtube_channels (user_id, refresh_token, channel_id, "
                    "channel_title, scope) VALUES ($1::uuid, $2, $3, $4, $5) "
                    "ON CONFLICT (user_id) DO UPDATE SET refresh_token = EXCLUDED.refresh_token, "
                    "channel_id = EXCLUDED.channel_id, channel_title = EXCLUDED.channel_title, "
                    "scope = EXCLUDED.scope, connected_at = now(), updated_at = now() "
                    "RETURNING ") +
            columns,
        user_id, sealed_refresh_token, channel_id, channel_title, scope);
    tx.commit();
    return from_row(row);
  } catch (const pqxx::broken_connection& e) {
    conn->discard();
    return failed("store the YouTube channel", e);
  } catch (const std::exception& e) {
    return failed("store the YouTube channel", e);
  }
}

result<std::optional<channel_record>> channel_repository::find(const std::string& user_id) {
  if (!is_uuid(user_id)) {
    return std::optional<channel_record>();
  }
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::nontransaction tx(**conn);
    auto rows = tx.exec_params(
        std::string("SELECT ") + columns + " FROM youtube_channels WHERE user_id = $1::uuid",
        user_id);
    if (rows.empty()) {
      return std::optional<channel_record>();
    }
    return std::optional<channel_record>(from_row(rows[0]));
  } catch (const pqxx::broken_connection& e) {
    conn->discard();
    return failed("read the YouTube channel", e);
  } catch (const std::exception& e) {
    return failed("read the YouTube channel", e);
  }
}

result<std::optional<channel_record>> channel_repository::remove(const std::string& user_id) {
  if (!is_uuid(user_id)) {
    return std::optional<channel_record>();
  }
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    auto rows = tx.exec_params(std::string("DELETE FROM youtube_channels WHERE user_id = $1::uuid "
                                           "RETURNING ") +
                                   columns,
                               user_id);
    tx.commit();
    if (rows.empty()) {
      return std::optional<channel_record>();
    }
    return std::optional<channel_record>(from_row(rows[0]));
  } catch (const pqxx::broken_connection& e) {
    conn->discard();
    return failed("remove the YouTube channel", e);
  } catch (const std::exception& e) {
    return failed("remove the YouTube channel", e);
  }
}

}  // namespace reelfarm::youtube
