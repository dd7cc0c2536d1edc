#include "farm_changes.hpp"

#include <pqxx/pqxx>

namespace reelfarm::testing {

farm_changes::farm_changes(const std::string& dsn) : conn_(dsn) {}

std::string farm_changes::add_user(const std::string& name, const std::string& plan) {
  pqxx::work tx(conn_);
  auto id = tx.exec_params1(
                  "INSERT INTO users (email, password_hash, full_name, plan) "
                  "VALUES (replace(lower($1), ' ', '.') || '-' || gen_random_uuid() || "
                  "'@example.com', 'x', $1, $2) "
                  "RETURNING id::text",
                  name, plan)[0]
                .as<std::string>();
  tx.exec_params("SELECT credit_add($1::uuid, 'grant', 3, 'Free plan credits', NULL, 'signup')",
                 id);
  tx.commit();
  return id;
}

std::string farm_changes::add_project(const std::string& user, const std::string& title) {
  pqxx::work tx(conn_);
  auto id = tx.exec_params1(
                  "INSERT INTO projects (user_id, title, script, subtitle_urls) VALUES ($1::uuid, "
                  "$2, 'INT. STUDIO - DAY\n\nA film about ' || $2, "
                  "'{\"srt\": \"https://media.example/a.srt\"}') RETURNING id::text",
                  user, title)[0]
                .as<std::string>();
  tx.commit();
  return id;
}

void farm_changes::set_project_status(const std::string& project, const std::string& status) {
  pqxx::work tx(conn_);
  tx.exec_params(
      "UPDATE projects SET status = $2, updated_at = clock_timestamp(), "
      "video_duration = CASE WHEN $2 = 'complete' THEN 95 END, "
      "video_url = CASE WHEN $2 = 'complete' THEN 'https://media.example/' || id || '.mp4' END, "
      "credits_used = CASE WHEN $2 IN ('processing', 'complete') THEN 6 ELSE 0 END "
      "WHERE id = $1::uuid",
      project, status);
  tx.commit();
}

void farm_changes::grant(const std::string& user, int amount, const std::string& key) {
  pqxx::work tx(conn_);
  tx.exec_params("SELECT credit_add($1::uuid, 'grant', $2, 'Promotional grant', NULL, $3)", user,
                 amount, key);
  tx.commit();
}

void farm_changes::charge(const std::string& user, const std::string& job, int amount,
                          bool refund) {
  pqxx::work tx(conn_);
  tx.exec_params("SELECT credit_charge($1::uuid, $2, $3, 'Render ' || $2, 'charge:' || $2)", user,
                 job, amount);
  if (refund) {
    tx.exec_params("SELECT credit_refund($1::uuid, $2, 'Render failed', 'refund:' || $2)", user,
                   job);
  }
  tx.commit();
}

std::string farm_changes::add_upload(const std::string& user, const std::string& project,
                                     const std::string& status) {
  pqxx::work tx(conn_);
  // A project has at most one live upload (migration 0007): a new one ends
  // the live one as failed, as the upload worker would have.
  tx.exec_params(
      "UPDATE youtube_integrations SET upload_status = 'failed' WHERE project_id = $1::uuid"
      " AND upload_status IN ('pending', 'uploading')",
      project);
  auto id = tx.exec_params1(
                  "INSERT INTO youtube_integrations (user_id, project_id, channel_id) "
                  "VALUES ($1::uuid, $2::uuid, 'UC123') RETURNING id::text",
                  user, project)[0]
                .as<std::string>();
  tx.commit();
  pqxx::work up(conn_);
  up.exec_params(
      "UPDATE youtube_integrations SET upload_status = $2, video_id = 'vid' || left(id::text, 8), "
      "youtube_url = 'https://youtu.be/vid' || left(id::text, 8) WHERE id = $1::uuid",
      id, status);
  up.commit();
  return id;
}

void farm_changes::set_plan(const std::string& user, const std::string& plan) {
  pqxx::work tx(conn_);
  tx.exec_params("UPDATE users SET plan = $2, updated_at = now() WHERE id = $1::uuid", user, plan);
  tx.commit();
}

}  // namespace reelfarm::testing
