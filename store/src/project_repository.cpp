#include "reelfarm/store/project_repository.hpp"

#include <cctype>

#include <pqxx/pqxx>

#include "reelfarm/store/errc.hpp"

namespace reelfarm {

namespace {

constexpr const char* columns =
    "id::text, user_id::text, title, script, status, settings::text, credits_used, "
    "video_duration, video_url, thumbnail_url, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "subtitle_urls::text";

project_record from_row(const pqxx::row& row) {
  project_record p;
  p.id = row[0].as<std::string>();
  p.user_id = row[1].as<std::string>();
  p.title = row[2].as<std::string>();
  p.script = row[3].as<std::string>();
  p.status = row[4].as<std::string>();
  p.settings_json = row[5].as<std::string>();
  p.credits_used = row[6].as<std::int64_t>();
  if (!row[7].is_null()) {
    p.video_duration = row[7].as<double>();
  }
  if (!row[8].is_null()) {
    p.video_url = row[8].as<std::string>();
  }
  if (!row[9].is_null()) {
    p.thumbnail_url = row[9].as<std::string>();
  }
  p.created_at = row[10].as<std::string>();
  p.updated_at = row[11].as<std::string>();
  p.subtitle_urls_json = row[12].as<std::string>();
  return p;
}

error not_found(const std::string& id) {
  return error(store_errc::not_found, "no project with id '" + id + "'");
}

error failed(const char* what, const std::exception& e) {
  return error(store_errc::query, std::string("cannot ") + what + ": " + e.what());
}

}  // namespace

bool is_uuid(const std::string& text) noexcept {
  if (text.size() != 36) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
  }
  return true;
}

result<project_record> project_repository::create(const std::string& user_id,
                                                  const std::string& title,
                                                  const std::string& script,
                                                  const std::string& settings_json) {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    auto row =
        tx.exec_params1(std::string("INSERT INTO projects (user_id, title, script, settings) "
                                    "VALUES ($1::uuid, $2, $3, $4::jsonb) RETURNING ") +
                            columns,
                        user_id, title, script, settings_json);
    tx.exec_params0(
        "INSERT INTO logs (project_id, user_id, action, message) VALUES ($1::uuid, $2::uuid, "
        "'project.created', '')",
        row[0].as<std::string>(), user_id);
    tx.commit();
    return from_row(row);
  } catch (const std::exception& e) {
    conn->discard();
    return failed("create the project", e);
  }
}

result<project_record> project_repository::get(const std::string& user_id, const std::string& id) {
  if (!is_uuid(id)) {
    return not_found(id);
  }
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::read_transaction tx(**conn);
    auto r = tx.exec_params(std::string("SELECT ") + columns +
                                " FROM projects WHERE id = $1::uuid AND user_id = $2::uuid",
                            id, user_id);
    if (r.empty()) {
      return not_found(id);
    }
    return from_row(r[0]);
  } catch (const std::exception& e) {
    conn->discard();
    return failed("read the project", e);
  }
}

result<project_page> project_repository::list(const std::string& user_id, int limit,
                                              std::int64_t offset) {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::read_transaction tx(**conn);
    project_page page;
    page.total =
        tx.exec_params1("SELECT count(*) FROM projects WHERE user_id = $1::uuid", user_id)[0]
            .as<std::int64_t>();
    auto r = tx.exec_params(std::string("SELECT ") + columns +
                                " FROM projects WHERE user_id = $1::uuid "
                                "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
                            user_id, limit, offset);
    for (const auto& row : r) {
      page.items.push_back(from_row(row));
    }
    return page;
  } catch (const std::exception& e) {
    conn->discard();
    return failed("list the projects", e);
  }
}

result<project_record> project_repository::update(const std::string& user_id, const std::string& id,
                                                  const project_changes& changes) {
  if (!is_uuid(id)) {
    return not_found(id);
  }
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    // NULL parameters keep the column: one statement, no SQL built from input.
    auto r =
        tx.exec_params(std::string("UPDATE projects SET title = coalesce($3, title), "
                                   "script = coalesce($4, script), "
                                   "settings = coalesce($5::jsonb, settings), updated_at = now() "
                                   "WHERE id = $1::uuid AND user_id = $2::uuid RETURNING ") +
                           columns,
                       id, user_id, changes.title, changes.script, changes.settings_json);
    if (r.empty()) {
      return not_found(id);
    }
    tx.commit();
    return from_row(r[0]);
  } catch (const std::exception& e) {
    conn->discard();
    return failed("update the project", e);
  }
}

result<void> project_repository::remove(const std::string& user_id, const std::string& id) {
  if (!is_uuid(id)) {
    return not_found(id);
  }
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    auto r = tx.exec_params("DELETE FROM projects WHERE id = $1::uuid AND user_id = $2::uuid", id,
                            user_id);
    if (r.affected_rows() == 0) {
      return not_found(id);
    }
    tx.exec_params0(
        "INSERT INTO logs (user_id, action, message) VALUES ($1::uuid, 'project.deleted', $2)",
        user_id, id);
    tx.commit();
    return ok();
  } catch (const std::exception& e) {
    conn->discard();
    return failed("delete the project", e);
  }
}

result<std::vector<std::pair<std::string, std::int64_t>>> project_repository::count_by_status() {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::read_transaction tx(**conn);
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const auto& row :
         tx.exec("SELECT status, count(*) FROM projects GROUP BY status ORDER BY status")) {
      out.emplace_back(row[0].as<std::string>(), row[1].as<std::int64_t>());
    }
    return out;
  } catch (const std::exception& e) {
    conn->discard();
    return failed("count the projects", e);
  }
}

}  // namespace reelfarm
