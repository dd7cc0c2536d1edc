#include "reelfarm/store/job_repository.hpp"

#include <algorithm>

#include <pqxx/pqxx>

#include "reelfarm/store/errc.hpp"

namespace reelfarm {
namespace {

constexpr const char* job_columns =
    "j.id::text, j.project_id::text, j.user_id::text, j.kind, j.status, j.progress, "
    "j.current_step, j.shots_total, j.shots_done, j.settings::text, j.cost_credits, "
    "coalesce(j.result::text, ''), coalesce(j.error, ''), p.script, p.title, "
    "(SELECT plan FROM users u WHERE u.id = j.user_id), "
    "to_char(j.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
    "coalesce(to_char(j.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), ''), "
    "coalesce(to_char(j.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '')";

constexpr const char* shot_columns =
    "shot_id, scene_id, position, input_hash, duration_ms, spec::text, status, progress, "
    "current_step, attempts, coalesce(artifact, ''), coalesce(checksum, ''), "
    "coalesce(segment::text, ''), coalesce(node_id, ''), coalesce(error, ''), "
    "coalesce(reused_from::text, '')";

job_record job_from(const pqxx::row& r) {
  job_record j;
  j.id = r[0].as<std::string>();
  j.project_id = r[1].as<std::string>();
  j.user_id = r[2].as<std::string>();
  j.kind = r[3].as<std::string>();
  j.status = r[4].as<std::string>();
  j.progress = r[5].as<int>();
  j.current_step = r[6].as<std::string>();
  j.shots_total = r[7].as<int>();
  j.shots_done = r[8].as<int>();
  j.settings_json = r[9].as<std::string>();
  j.cost_credits = r[10].as<std::int64_t>();
  j.result_json = r[11].as<std::string>();
  j.error = r[12].as<std::string>();
  j.script = r[13].as<std::string>();
  j.title = r[14].as<std::string>();
  j.user_plan = r[15].as<std::string>();
  j.created_at = r[16].as<std::string>();
  j.started_at = r[17].as<std::string>();
  j.finished_at = r[18].as<std::string>();
  return j;
}

shot_record shot_from(const pqxx::row& r) {
  shot_record s;
  s.shot_id = r[0].as<std::string>();
  s.scene_id = r[1].as<std::string>();
  s.position = r[2].as<int>();
  s.input_hash = r[3].as<std::string>();
  s.duration_ms = r[4].as<std::int64_t>();
  s.spec_json = r[5].as<std::string>();
  s.status = r[6].as<std::string>();
  s.progress = r[7].as<int>();
  s.current_step = r[8].as<std::string>();
  s.attempts = r[9].as<int>();
  s.artifact = r[10].as<std::string>();
  s.checksum = r[11].as<std::string>();
  s.segment_json = r[12].as<std::string>();
  s.node_id = r[13].as<std::string>();
  s.error = r[14].as<std::string>();
  s.reused_from = r[15].as<std::string>();
  return s;
}

// Runs `body` in one transaction on a pooled connection; SQL errors from the
// ledger's functions keep their meaning (insufficient credits, cancelled).
template <class T, class Fn>
result<T> in_transaction(pg_pool& pool, const char* what, Fn&& body) {
  auto conn = pool.acquire();
  if (!conn) {
    return conn.error();
  }
  try {
    pqxx::work tx(**conn);
    result<T> out = body(tx);
    if (out) {
      tx.commit();
    }
    return out;
  } catch (const pqxx::broken_connection& e) {
    conn->discard();
    return error(store_errc::connection, std::string(what) + ": " + e.what());
  } catch (const pqxx::sql_error& e) {
    auto translated = credit_ledger::ledger_error_from(e);
    if (translated.is(store_errc::query)) {
      return error(store_errc::query, std::string(what) + ": " + e.what());
    }
    return translated;
  } catch (const std::exception& e) {
    return error(store_errc::query, std::string(what) + ": " + e.what());
  }
}

std::optional<job_record> locked_job(pqxx::work& tx, const std::string& job_id) {
  auto rows = tx.exec_params(std::string("SELECT ") + job_columns +
                                 " FROM ai_jobs j JOIN projects p ON p.id = j.project_id"
                                 " WHERE j.id::text = $1 FOR UPDATE OF j",
                             job_id);
  if (rows.empty()) {
    return std::nullopt;
  }
  return job_from(rows[0]);
}

error no_job(const std::string& job_id) {
  return error(store_errc::not_found, "no render job " + job_id);
}

void set_project_status(pqxx::work& tx, const job_record& job, const std::string& status) {
  tx.exec_params("UPDATE projects SET status = $2, updated_at = now() WHERE id = $1::uuid",
                 job.project_id, status);
}

void insert_shot(pqxx::work& tx, const std::string& job_id, const shot_record& s) {
  tx.exec_params(
      "INSERT INTO render_shots (job_id, shot_id, scene_id, position, input_hash, duration_ms,"
      " spec, status, progress, current_step, artifact, checksum, segment, reused_from)"
      " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, NULLIF($11, ''),"
      " NULLIF($12, ''), NULLIF($13, '')::jsonb, NULLIF($14, '')::uuid)",
      job_id, s.shot_id, s.scene_id, s.position, s.input_hash, s.duration_ms, s.spec_json, s.status,
      s.progress, s.current_step, s.artifact, s.checksum, s.segment_json, s.reused_from);
}

void upsert_reference(pqxx::work& tx, const std::string& project_id, const reference_record& r) {
  tx.exec_params(
      "INSERT INTO consistency_references (project_id, reference_id, kind, name, seed, palette,"
      " voice, image) VALUES ($1::uuid, $2, $3, $4, $5, $6::jsonb, NULLIF($7, '')::jsonb,"
      " NULLIF($8, '')) ON CONFLICT (project_id, reference_id) DO UPDATE SET"
      " palette = EXCLUDED.palette, voice = EXCLUDED.voice, image = EXCLUDED.image,"
      " seed = EXCLUDED.seed, updated_at = now()",
      project_id, r.id, r.kind, r.name, static_cast<std::int64_t>(r.seed), r.palette_json,
      r.voice_json, r.image);
}

void finish_job(pqxx::work& tx, const std::string& job_id, const std::string& status,
                const std::string& step, const std::string& why) {
  tx.exec_params(
      "UPDATE ai_jobs SET status = $2, current_step = $3, error = NULLIF($4, ''),"
      " finished_at = now(), updated_at = now(),"
      " progress = CASE WHEN $2 = 'complete' THEN 100 ELSE progress END WHERE id = $1::uuid",
      job_id, status, step, why);
}

}  // namespace

result<std::string> job_repository::create_project(const std::string& user_id,
                                                   const std::string& title,
                                                   const std::string& script,
                                                   const std::string& settings_json) {
  return in_transaction<std::string>(
      pool_, "create project", [&](pqxx::work& tx) -> result<std::string> {
        return tx
            .exec_params1(
                "INSERT INTO projects (user_id, title, script, settings)"
                " VALUES ($1::uuid, $2, $3, $4::jsonb) RETURNING id::text",
                user_id, title, script, settings_json)[0]
            .as<std::string>();
      });
}

result<std::optional<std::string>> job_repository::find_live_job(const std::string& user_id,
                                                                 const std::string& script) {
  using out_t = std::optional<std::string>;
  return in_transaction<out_t>(pool_, "find live job", [&](pqxx::work& tx) -> result<out_t> {
    auto rows = tx.exec_params(
        "SELECT j.id::text FROM ai_jobs j JOIN projects p ON p.id = j.project_id"
        " WHERE j.user_id::text = $1 AND p.script = $2 AND j.status IN ('queued', 'processing')"
        " ORDER BY j.created_at DESC LIMIT 1",
        user_id, script);
    return rows.empty() ? out_t{} : out_t{rows[0][0].as<std::string>()};
  });
}

result<job_record> job_repository::create(const std::string& user_id, const std::string& project_id,
                                          const std::string& kind,
                                          const std::string& settings_json) {
  return in_transaction<job_record>(pool_, "create job", [&](pqxx::work& tx) -> result<job_record> {
    auto owned = tx.exec_params(
        "SELECT 1 FROM projects WHERE id::text = $1 AND user_id::text = $2 FOR UPDATE", project_id,
        user_id);
    if (owned.empty()) {
      return error(store_errc::not_found, "no project " + project_id + " of this user");
    }
    auto live = tx.exec_params(
        "SELECT id::text FROM ai_jobs WHERE project_id = $1::uuid"
        " AND status IN ('queued', 'processing')",
        project_id);
    if (!live.empty()) {
      return error(store_errc::conflict,
                   "the project already has a live render job " + live[0][0].as<std::string>());
    }
    auto id = tx.exec_params1(
                    "INSERT INTO ai_jobs (project_id, user_id, kind, settings)"
                    " VALUES ($1::uuid, $2::uuid, $3, $4::jsonb) RETURNING id::text",
                    project_id, user_id, kind, settings_json)[0]
                  .as<std::string>();
    auto job = locked_job(tx, id);
    return job ? result<job_record>(*job) : result<job_record>(no_job(id));
  });
}

result<job_record> job_repository::get(const std::string& job_id) {
  return in_transaction<job_record>(pool_, "read job", [&](pqxx::work& tx) -> result<job_record> {
    auto rows = tx.exec_params(std::string("SELECT ") + job_columns +
                                   " FROM ai_jobs j JOIN projects p ON p.id = j.project_id"
                                   " WHERE j.id::text = $1",
                               job_id);
    if (rows.empty()) {
      return no_job(job_id);
    }
    return job_from(rows[0]);
  });
}

result<std::optional<job_record>> job_repository::latest_for_project(
    const std::string& project_id) {
  using out_t = std::optional<job_record>;
  return in_transaction<out_t>(pool_, "read latest job", [&](pqxx::work& tx) -> result<out_t> {
    auto rows = tx.exec_params(std::string("SELECT ") + job_columns +
                                   " FROM ai_jobs j JOIN projects p ON p.id = j.project_id"
                                   " WHERE j.project_id::text = $1"
                                   " ORDER BY j.created_at DESC LIMIT 1",
                               project_id);
    return rows.empty() ? out_t{} : out_t{job_from(rows[0])};
  });
}

result<std::vector<shot_record>> job_repository::shots(const std::string& job_id) {
  using out_t = std::vector<shot_record>;
  return in_transaction<out_t>(pool_, "read shots", [&](pqxx::work& tx) -> result<out_t> {
    out_t out;
    for (const auto& row :
         tx.exec_params(std::string("SELECT ") + shot_columns +
                            " FROM render_shots WHERE job_id::text = $1 ORDER BY position",
                        job_id)) {
      out.push_back(shot_from(row));
    }
    return out;
  });
}

result<std::vector<std::string>> job_repository::unfinished() {
  using out_t = std::vector<std::string>;
  return in_transaction<out_t>(pool_, "list unfinished jobs", [&](pqxx::work& tx) -> result<out_t> {
    out_t out;
    for (const auto& row : tx.exec("SELECT id::text FROM ai_jobs WHERE status IN"
                                   " ('queued', 'processing') ORDER BY created_at")) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

result<job_record> job_repository::start(const std::string& job_id,
                                         const std::vector<shot_record>& shots,
                                         const std::vector<reference_record>& references,
                                         std::int64_t cost_credits,
                                         const std::string& description) {
  return in_transaction<job_record>(pool_, "start job", [&](pqxx::work& tx) -> result<job_record> {
    auto job = locked_job(tx, job_id);
    if (!job) {
      return no_job(job_id);
    }
    if (job->status == "processing") {
      return *job;  // resumed: charged and stored already
    }
    if (job->status != "queued") {
      return error(store_errc::job_cancelled,
                   "job " + job_id + " is " + job->status + " and cannot start");
    }
    for (const auto& s : shots) {
      insert_shot(tx, job_id, s);
    }
    for (const auto& r : references) {
      upsert_reference(tx, job->project_id, r);
    }
    if (cost_credits > 0) {
      // Throws RF402/RF410 on a short balance or an earlier cancel: the whole
      // transaction (shots, status) rolls back with it.
      (void)credit_ledger::charge_in(tx, job->user_id, job_id, cost_credits, description,
                                     "render:" + job_id);
    }
    int done = 0;
    for (const auto& s : shots) {
      done += s.has_segment() ? 1 : 0;
    }
    tx.exec_params(
        "UPDATE ai_jobs SET status = 'processing', current_step = 'rendering shots',"
        " shots_total = $2, shots_done = $3, cost_credits = $4, started_at = now(),"
        " updated_at = now() WHERE id = $1::uuid",
        job_id, static_cast<int>(shots.size()), done, cost_credits);
    tx.exec_params(
        "UPDATE projects SET status = 'processing', credits_used = credits_used + $2,"
        " updated_at = now() WHERE id = $1::uuid",
        job->project_id, cost_credits);
    tx.exec_params(
        "INSERT INTO logs (project_id, user_id, action, message)"
        " VALUES ($1::uuid, $2::uuid, 'render_started', $3)",
        job->project_id, job->user_id,
        std::to_string(shots.size()) + " shots, " + std::to_string(cost_credits) + " credits");
    return *locked_job(tx, job_id);
  });
}

result<void> job_repository::set_progress(const std::string& job_id, int percent,
                                          const std::string& step, int shots_done) {
  return in_transaction<void>(pool_, "job progress", [&](pqxx::work& tx) -> result<void> {
    tx.exec_params(
        "UPDATE ai_jobs SET progress = $2, current_step = $3, shots_done = $4,"
        " updated_at = now() WHERE id = $1::uuid AND status = 'processing'",
        job_id, std::clamp(percent, 0, 100), step, shots_done);
    return ok();
  });
}

result<void> job_repository::update_shot(const std::string& job_id, const shot_record& s) {
  return in_transaction<void>(pool_, "shot state", [&](pqxx::work& tx) -> result<void> {
    tx.exec_params(
        "UPDATE render_shots SET status = $3, progress = $4, current_step = $5, attempts = $6,"
        " artifact = NULLIF($7, ''), checksum = NULLIF($8, ''),"
        " segment = NULLIF($9, '')::jsonb, node_id = NULLIF($10, ''), error = NULLIF($11, ''),"
        " updated_at = now() WHERE job_id = $1::uuid AND shot_id = $2",
        job_id, s.shot_id, s.status, std::clamp(s.progress, 0, 100), s.current_step, s.attempts,
        s.artifact, s.checksum, s.segment_json, s.node_id, s.error);
    return ok();
  });
}

result<std::optional<reusable_shot>> job_repository::find_reusable(const std::string& project_id,
                                                                   const std::string& input_hash) {
  using out_t = std::optional<reusable_shot>;
  return in_transaction<out_t>(pool_, "find reusable shot", [&](pqxx::work& tx) -> result<out_t> {
    // The payer: a "reused" row's source, else the row's own job (it rendered
    // the shot, or paid for a refunded job's file as if it had). Its charge
    // stands when the ledger holds its deduction and no refund, and the job
    // ended without failing (complete, or cancelled after start); each of
    // those is a lookup by index, in this one statement.
    auto rows = tx.exec_params(
        std::string("SELECT ") + shot_columns +
            ", payer::text,"
            " EXISTS (SELECT 1 FROM ai_jobs pj WHERE pj.id = payer"
            "         AND pj.status IN ('complete', 'cancelled'))"
            " AND EXISTS (SELECT 1 FROM credit_transactions d"
            "             WHERE d.kind = 'deduction' AND d.job_id = payer::text)"
            " AND NOT EXISTS (SELECT 1 FROM credit_transactions r"
            "                 WHERE r.kind = 'refund' AND r.job_id = payer::text) AS paid"
            " FROM render_shots s CROSS JOIN LATERAL (SELECT CASE WHEN s.status = 'reused'"
            " AND s.reused_from IS NOT NULL THEN s.reused_from ELSE s.job_id END AS payer) p"
            " WHERE s.input_hash = $2 AND s.status IN ('done', 'reused') AND s.job_id IN"
            " (SELECT id FROM ai_jobs WHERE project_id::text = $1)"
            " ORDER BY paid DESC, s.updated_at DESC LIMIT 1",
        project_id, input_hash);
    if (rows.empty()) {
      return out_t{};
    }
    reusable_shot found;
    found.shot = shot_from(rows[0]);
    found.shot.reused_from = rows[0][16].as<std::string>();
    found.paid = rows[0][17].as<bool>();
    return out_t{std::move(found)};
  });
}

result<job_record> job_repository::complete(const std::string& job_id, const film_record& film) {
  return in_transaction<job_record>(
      pool_, "complete job", [&](pqxx::work& tx) -> result<job_record> {
        auto job = locked_job(tx, job_id);
        if (!job) {
          return no_job(job_id);
        }
        if (job->finished()) {
          return *job;
        }
        tx.exec_params(
            "UPDATE ai_jobs SET result = $2::jsonb, shots_done = shots_total"
            " WHERE id = $1::uuid",
            job_id, film.result_json);
        finish_job(tx, job_id, "complete", "complete", "");
        tx.exec_params(
            "UPDATE projects SET status = 'complete', video_url = $2, thumbnail_url = $3,"
            " subtitle_urls = $4::jsonb, video_duration = $5, updated_at = now()"
            " WHERE id = $1::uuid",
            job->project_id, film.video_url, film.thumbnail_url, film.subtitle_urls_json,
            film.duration_s);
        tx.exec_params(
            "INSERT INTO logs (project_id, user_id, action, message)"
            " VALUES ($1::uuid, $2::uuid, 'render_complete', $3)",
            job->project_id, job->user_id, film.video_url);
        return *locked_job(tx, job_id);
      });
}

result<job_record> job_repository::fail(const std::string& job_id, const std::string& why) {
  return in_transaction<job_record>(pool_, "fail job", [&](pqxx::work& tx) -> result<job_record> {
    auto job = locked_job(tx, job_id);
    if (!job) {
      return no_job(job_id);
    }
    if (job->finished()) {
      return *job;
    }
    if (job->status == "processing" && job->cost_credits > 0) {
      // Same transaction as "failed": a crash after this commit cannot lose
      // the refund, and a crash before it leaves the job to be resumed.
      (void)credit_ledger::refund_in(tx, job->user_id, job_id, "refund: render failed",
                                     "refund:" + job_id);
      tx.exec_params(
          "UPDATE projects SET credits_used = greatest(credits_used - $2, 0)"
          " WHERE id = $1::uuid",
          job->project_id, job->cost_credits);
    }
    finish_job(tx, job_id, "failed", "failed", why);
    set_project_status(tx, *job, "failed");
    tx.exec_params(
        "INSERT INTO logs (project_id, user_id, action, message)"
        " VALUES ($1::uuid, $2::uuid, 'render_failed', $3)",
        job->project_id, job->user_id, why);
    return *locked_job(tx, job_id);
  });
}

result<cancel_outcome> job_repository::cancel(const std::string& job_id) {
  return in_transaction<cancel_outcome>(
      pool_, "cancel job", [&](pqxx::work& tx) -> result<cancel_outcome> {
        auto job = locked_job(tx, job_id);
        if (!job) {
          return no_job(job_id);
        }
        if (job->status == "complete" || job->status == "failed") {
          return error(store_errc::conflict, "job " + job_id + " already " + job->status);
        }
        // The ledger remembers the cancel: no charge can follow one before
        // start, no refund one after.
        bool charged =
            tx.exec_params1("SELECT credit_cancel($1::uuid, $2)", job->user_id, job_id)[0]
                .as<bool>();
        if (!job->finished()) {
          finish_job(tx, job_id, "cancelled", "cancelled", "");
          set_project_status(tx, *job, "cancelled");
          tx.exec_params(
              "UPDATE render_shots SET status = 'cancelled', updated_at = now()"
              " WHERE job_id = $1::uuid AND status IN ('queued', 'rendering')",
              job_id);
        }
        return charged ? cancel_outcome::charge_kept : cancel_outcome::nothing_charged;
      });
}

}  // namespace reelfarm
