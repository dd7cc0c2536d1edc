#include "reelfarm/youtube/upload_repository.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/project_repository.hpp"
#include "reelfarm/youtube/errc.hpp"

namespace reelfarm::youtube {

namespace {

constexpr const char* columns =
    "id::text, user_id::text, project_id::text, upload_status, title, description, tags::text, "
    "privacy_status, playlist_id, playlist_title, film_path, thumbnail_path, total_bytes, "
    "bytes_sent, session_uri, channel_id, video_id, youtube_url, thumbnail_url, thumbnail_set, "
    "playlist_item_id, error, attempts, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

std::optional<std::string> optional_text(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<std::string>(f.as<std::string>());
}

upload_record from_row(const pqxx::row& row) {
  upload_record u;
  u.id = row[0].as<std::string>();
  u.user_id = row[1].as<std::string>();
  u.project_id = row[2].as<std::string>();
  u.status = row[3].as<std::string>();
  u.title = row[4].as<std::string>();
  u.description = row[5].as<std::string>();
  auto tags = nlohmann::json::parse(row[6].as<std::string>(), nullptr, false);
  if (tags.is_array()) {
    for (const auto& t : tags) {
      if (t.is_string()) {
        u.tags.push_back(t.get<std::string>());
      }
    }
  }
  u.privacy_status = row[7].as<std::string>();
  u.playlist_id = optional_text(row[8]);
  u.playlist_title = optional_text(row[9]);
  u.film_path = optional_text(row[10]);
  u.thumbnail_path = optional_text(row[11]);
  u.total_bytes = row[12].as<std::int64_t>();
  u.bytes_sent = row[13].as<std::int64_t>();
  u.session_uri = optional_text(row[14]);
  u.channel_id = optional_text(row[15]);
  u.video_id = optional_text(row[16]);
  u.youtube_url = optional_text(row[17]);
  u.thumbnail_url = optional_text(row[18]);
  u.thumbnail_set = row[19].as<bool>();
  u.playlist_item_id = optional_text(row[20]);
  u.error = optional_text(row[21]);
  u.attempts = row[22].as<int>();
  u.created_at = row[23].as<std::string>();
  u.updated_at = row[24].as<std::string>();
  u.finished_at = optional_text(row[25]);
  return u;
}

error failed(const char* what, const std::exception& e) {
  return error(youtube_errc::database, std::string("cannot ") + what + ": " + e.what());
}

}  // namespace

result<upload_record> upload_repository::create(const upload_request& request) {
  if (!is_uuid(request.user_id) || !is_uuid(request.project_id)) {
    return error(store_errc::not_found, "no project with id '" + request.project_id + "'");
  }
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    // FOR SHARE: the project cannot be deleted or re-rendered under the
    // check; the film paths recorded are the ones checked.
    auto project = tx.exec_params(
        "SELECT status, video_url, thumbnail_url FROM projects "
        "WHERE id = $1::uuid AND user_id = $2::uuid FOR SHARE",
        request.project_id, request.user_id);
    if (project.empty()) {
      return error(store_errc::not_found, "no project with id '" + request.project_id + "'");
    }
    if (project[0][0].as<std::string>() != "complete" || project[0][1].is_null()) {
      return error(store_errc::conflict, "the project has no complete film yet (status " +
                                             project[0][0].as<std::string>() +
                                             "); render it first");
    }
    auto live = tx.exec_params(
        "SELECT id::text FROM youtube_integrations WHERE project_id = $1::uuid "
        "AND upload_status IN ('pending', 'uploading')",
        request.project_id);
    if (!live.empty()) {
      return error(store_errc::conflict, "an upload of this project is already under way (" +
                                             live[0][0].as<std::string>() + ")");
    }
    nlohmann::json tags = request.tags;
    auto row = tx.exec_params1(
        std::string("INSERT INTO youtube_integrations (user_id, project_id, title, description, "
                    "tags, privacy_status, playlist_id, playlist_title, film_path, "
                    "thumbnail_path) VALUES ($1::uuid, $2::uuid, $3, $4, $5::jsonb, $6, $7, $8, "
                    "$9, $10) RETURNING ") +
            columns,
        request.user_id, request.project_id, request.title, request.description, tags.dump(),
        request.privacy_status, request.playlist_id, request.playlist_title,
        project[0][1].as<std::string>(), optional_text(project[0][2]));
    tx.commit();
    return from_row(row);
  } catch (const pqxx::unique_violation&) {
    return error(store_errc::conflict, "an upload of this project is already under way");
  } catch (const pqxx::broken_connection& e) {
    conn->discard();
    return failed("queue the upload", e);
  } catch (const std::exception& e) {
    return failed("queue the upload", e);
  }
}

result<upload_record> upload_repository::get(const std::string& user_id, const std::string& id) {
  if (!is_uuid(user_id) || !is_uuid(id)) {
    return error(store_errc::not_found, "no upload with id '" + id + "'");
  }
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::nontransaction tx(**conn);
    auto rows = tx.exec_params(std::string("SELECT ") + columns +
                                   " FROM youtube_integrations WHERE id = $1::uuid AND "
                                   "user_id = $2::uuid",
                               id, user_id);
    if (rows.empty()) {
      return error(store_errc::not_found, "no upload with id '" + id + "'");
    }
    return from_row(rows[0]);
  } catch (const pqxx::broken_connection& e) {
    conn->discard();
    return failed("read the upload", e);
  } catch (const std::exception& e) {
    return failed("read the upload", e);
  }
}

result<std::vector<upload_record>> upload_repository::list(const std::string& user_id, int limit,
                                                           std::int64_t offset) {
  if (!is_uuid(user_id)) {
    return std::vector<upload_record>{};
  }
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::nontransaction tx(**conn);
    auto rows = tx.exec_params(std::string("SELECT ") + columns +
                                   " FROM youtube_integrations WHERE user_id = $1::uuid "
                                   "ORDER BY created_at DESC, id LIMIT $2 OFFSET $3",
                               user_id, limit, offset);
    std::vector<upload_record> out;
    for (const auto& row : rows) {
      out.push_back(from_row(row));
    }
    return out;
  } catch (const pqxx::broken_connection& e) {
    conn->discard();
    return failed("list the uploads", e);
  } catch (const std::exception& e) {
    return failed("list the uploads", e);
  }
}

result<std::optional<upload_record>> upload_repository::claim(const std::string& worker,
                                                              std::chrono::seconds lease) {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    auto rows = tx.exec_params(
        std::string("UPDATE youtube_integrations SET upload_status = 'uploading', "
                    "claimed_by = $1, claimed_until = now() + make_interval(secs => $2), "
                    "attempts = attempts + 1, started_at = coalesce(started_at, now()), "
                    "updated_at = now() WHERE id = (SELECT id FROM youtube_integrations "
                    "WHERE upload_status IN ('pending', 'uploading') AND next_attempt_at <= now() "
                    "AND (claimed_until IS NULL OR claimed_until < now()) "
                    "ORDER BY next_attempt_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
                    "RETURNING ") +
            columns,
        worker, static_cast<double>(lease.count()));
    tx.commit();
    if (rows.empty()) {
      return std::optional<upload_record>();
    }
    return std::optional<upload_record>(from_row(rows[0]));
  } catch (const pqxx::broken_connection& e) {
    conn->discard();
    return failed("claim an upload", e);
  } catch (const std::exception& e) {
    return failed("claim an upload", e);
  }
}

result<void> upload_repository::update(const std::string& id, const std::string& set_clause,
                                       const std::vector<std::string>& params, const char* what) {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::work tx(**conn);
    auto sql = "UPDATE youtube_integrations SET " + set_clause +
               ", updated_at = now() WHERE id = $1::uuid";
    pqxx::result r;
    switch (params.size()) {
      case 0:
        r = tx.exec_params(sql, id);
        break;
      case 1:
        r = tx.exec_params(sql, id, params[0]);
        break;
      case 2:
        r = tx.exec_params(sql, id, params[0], params[1]);
        break;
      default:
        r = tx.exec_params(sql, id, params[0], params[1], params[2]);
        break;
    }
    if (r.affected_rows() != 1) {
      return error(store_errc::not_found, "no upload with id '" + id + "'");
    }
    tx.commit();
    return ok();
  } catch (const pqxx::broken_connection& e) {
    conn->discard();
    return failed(what, e);
  } catch (const std::exception& e) {
    return failed(what, e);
  }
}

result<void> upload_repository::save_session(const std::string& id, const std::string& session_uri,
                                             std::int64_t total_bytes) {
  return update(id, "session_uri = $2, total_bytes = $3::bigint, bytes_sent = 0",
                {session_uri, std::to_string(total_bytes)}, "store the upload session");
}

result<void> upload_repository::save_progress(const std::string& id, std::int64_t bytes_sent,
                                              std::chrono::seconds lease) {
  return update(id,
                "bytes_sent = $2::bigint, claimed_until = now() + make_interval(secs => "
                "$3::double precision)",
                {std::to_string(bytes_sent), std::to_string(lease.count())},
                "store the upload progress");
}

result<void> upload_repository::save_video(const std::string& id, const std::string& video_id,
                                           const std::string& url, const std::string& channel_id) {
  return update(id,
                "video_id = $2, youtube_url = $3, channel_id = nullif($4, ''), "
                "bytes_sent = total_bytes, session_uri = NULL",
                {video_id, url, channel_id}, "store the uploaded video");
}

result<void> upload_repository::save_thumbnail(const std::string& id,
                                               const std::string& thumbnail_url) {
  return update(id, "thumbnail_url = $2, thumbnail_set = true", {thumbnail_url},
                "store the thumbnail");
}

result<void> upload_repository::save_playlist(const std::string& id,
                                              const std::string& playlist_id) {
  return update(id, "playlist_id = $2", {playlist_id}, "store the playlist");
}

result<void> upload_repository::save_playlist_item(const std::string& id,
                                                   const std::string& item_id) {
  return update(id, "playlist_item_id = $2", {item_id}, "store the playlist item");
}

result<void> upload_repository::complete(const std::string& id) {
  return update(id,
                "upload_status = 'complete', error = NULL, finished_at = now(), "
                "claimed_by = NULL, claimed_until = NULL",
                {}, "complete the upload");
}

result<void> upload_repository::fail(const std::string& id, const std::string& reason) {
  return update(id,
                "upload_status = 'failed', error = left($2, 1000), finished_at = now(), "
                "session_uri = NULL, claimed_by = NULL, claimed_until = NULL",
                {reason}, "fail the upload");
}

result<void> upload_repository::retry_later(const std::string& id, const std::string& reason,
                                            std::chrono::seconds delay) {
  return update(id,
                "error = left($2, 1000), claimed_by = NULL, claimed_until = NULL, "
                "next_attempt_at = now() + make_interval(secs => $3::double precision)",
                {reason, std::to_string(delay.count())}, "postpone the upload");
}

}  // namespace reelfarm::youtube
