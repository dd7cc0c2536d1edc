#include "reelfarm/gateway/user_directory.hpp"

#include <chrono>

#include <pqxx/pqxx>

#include "reelfarm/gateway/errc.hpp"

namespace reelfarm::gateway {

namespace {

constexpr const char* iso = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";

error storage(const char* what, const std::exception& e) {
  return error(gateway_errc::storage, std::string("cannot ") + what + ": " + e.what());
}

nlohmann::json nullable(const pqxx::field& f) {
  return f.is_null() ? nlohmann::json(nullptr) : nlohmann::json(f.as<std::string>());
}

// Runs `body` on a pooled connection, translating failures into errors.
template <class Body>
result<nlohmann::json> with_connection(pg_pool& pool, const char* what, Body&& body) {
  auto conn = pool.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    return body(**conn);
  } catch (const std::exception& e) {
    conn->discard();
    return storage(what, e);
  }
}

}  // namespace

result<nlohmann::json> user_directory::list_users(int limit, std::int64_t offset) {
  return with_connection(pool_, "list the users", [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    nlohmann::json items = nlohmann::json::array();
    auto rows = tx.exec_params(
        std::string("SELECT id::text, email, full_name, role, plan, credits_balance, "
                    "to_char(created_at AT TIME ZONE 'UTC', ") +
            iso + "), to_char(last_login_at AT TIME ZONE 'UTC', " + iso +
            ") FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2",
        limit, offset);
    for (const auto& row : rows) {
      items.push_back({{"id", row[0].as<std::string>()},
                       {"email", row[1].as<std::string>()},
                       {"full_name", row[2].as<std::string>()},
                       {"role", row[3].as<std::string>()},
                       {"plan", row[4].as<std::string>()},
                       {"credits_balance", row[5].as<std::int64_t>()},
                       {"created_at", row[6].as<std::string>()},
                       {"last_login_at", nullable(row[7])}});
    }
    auto total = tx.exec1("SELECT count(*) FROM users")[0].as<std::int64_t>();
    return nlohmann::json{{"items", items}, {"total", total}, {"limit", limit}, {"offset", offset}};
  });
}

result<std::optional<session_user>> user_directory::session_state(const std::string& user_id,
                                                                  const std::string& session) {
  auto conn = pool_.acquire();
  if (!conn) {
    return std::move(conn).error();
  }
  try {
    pqxx::nontransaction tx(**conn);
    auto r = tx.exec_params(
        "SELECT u.role, u.token_version, EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family = "
        "$2::uuid AND t.user_id = u.id AND t.revoked_at IS NULL) FROM users u WHERE u.id = "
        "$1::uuid",
        user_id, session);
    if (r.empty()) {
      return std::optional<session_user>();
    }
    return std::optional<session_user>(
        session_user{r[0][0].as<std::string>(), r[0][1].as<std::int64_t>(), r[0][2].as<bool>()});
  } catch (const std::exception& e) {
    conn->discard();
    return storage("read the user's session state", e);
  }
}

result<void> user_directory::set_full_name(const std::string& user_id,
                                           const std::string& full_name) {
  auto done = with_connection(pool_, "update the profile", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params0("UPDATE users SET full_name = $2, updated_at = now() WHERE id = $1::uuid",
                    user_id, full_name);
    tx.commit();
    return nlohmann::json();
  });
  if (!done) {
    return std::move(done).error();
  }
  return ok();
}

result<void> user_directory::set_data_sharing(const std::string& user_id, bool opt_in) {
  auto done = with_connection(pool_, "update the data-sharing choice", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params0(
        "UPDATE users SET data_sharing_opt_in = $2, data_sharing_opt_in_at = CASE "
        "WHEN NOT $2 THEN NULL WHEN data_sharing_opt_in THEN data_sharing_opt_in_at "
        "ELSE now() END, updated_at = now() WHERE id = $1::uuid",
        user_id, opt_in);
    tx.commit();
    return nlohmann::json();
  });
  if (!done) {
    return std::move(done).error();
  }
  return ok();
}

result<nlohmann::json> user_directory::credit_history(const std::string& user_id, int limit,
                                                      std::int64_t before_id) {
  return with_connection(pool_, "read the credit history", [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    auto rows = tx.exec_params(
        std::string("SELECT id, kind, amount, delta, balance_after, description, job_id, "
                    "payment_ref, to_char(created_at AT TIME ZONE 'UTC', ") +
            iso +
            ") FROM credit_transactions WHERE user_id = $1::uuid AND ($2 = 0 OR id < $2) "
            "ORDER BY id DESC LIMIT $3",
        user_id, before_id, limit + 1);
    nlohmann::json items = nlohmann::json::array();
    nlohmann::json next = nullptr;
    for (const auto& row : rows) {
      if (static_cast<int>(items.size()) == limit) {
        next = items.back()["id"];  // one more row exists: the page has a successor
        break;
      }
      items.push_back({{"id", row[0].as<std::int64_t>()},
                       {"kind", row[1].as<std::string>()},
                       {"amount", row[2].as<std::int64_t>()},
                       {"delta", row[3].as<std::int64_t>()},
                       {"balance_after", row[4].as<std::int64_t>()},
                       {"description", row[5].as<std::string>()},
                       {"job_id", nullable(row[6])},
                       {"payment_ref", nullable(row[7])},
                       {"created_at", row[8].as<std::string>()}});
    }
    return nlohmann::json{{"items", items}, {"next_before", next}};
  });
}

result<nlohmann::json> user_directory::statistics() {
  return with_connection(pool_, "compute the statistics", [&](pqxx::connection& c) {
    pqxx::read_transaction tx(c);
    nlohmann::json out;
    auto users = tx.exec1(
        "SELECT count(*), count(*) FILTER (WHERE role = 'admin'), "
        "count(*) FILTER (WHERE created_at > now() - interval '1 day'), "
        "coalesce(sum(credits_balance), 0) FROM users");
    out["users"] = {{"total", users[0].as<std::int64_t>()},
                    {"admins", users[1].as<std::int64_t>()},
                    {"new_last_24h", users[2].as<std::int64_t>()}};
    out["credits"]["outstanding"] = users[3].as<std::int64_t>();
    nlohmann::json plans = nlohmann::json::object();
    for (const auto& row : tx.exec("SELECT plan, count(*) FROM users GROUP BY plan")) {
      plans[row[0].as<std::string>()] = row[1].as<std::int64_t>();
    }
    out["users"]["by_plan"] = plans;
    nlohmann::json kinds = nlohmann::json::object();
    for (const auto& row :
         tx.exec("SELECT kind, count(*), coalesce(sum(amount), 0) FROM credit_transactions "
                 "GROUP BY kind")) {
      kinds[row[0].as<std::string>()] = {{"count", row[1].as<std::int64_t>()},
                                         {"amount", row[2].as<std::int64_t>()}};
    }
    out["credits"]["by_kind"] = kinds;
    nlohmann::json projects = nlohmann::json::object();
    std::int64_t total = 0;
    for (const auto& row : tx.exec("SELECT status, count(*) FROM projects GROUP BY status")) {
      projects[row[0].as<std::string>()] = row[1].as<std::int64_t>();
      total += row[1].as<std::int64_t>();
    }
    out["projects"] = {{"total", total}, {"by_status", projects}};
    return out;
  });
}

result<nlohmann::json> user_directory::ping() {
  return with_connection(pool_, "reach PostgreSQL", [&](pqxx::connection& c) {
    auto start = std::chrono::steady_clock::now();
    pqxx::nontransaction tx(c);
    auto version = tx.exec1("SHOW server_version")[0].as<std::string>();
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    return nlohmann::json{{"status", "ok"}, {"version", version}, {"latency_ms", ms.count()}};
  });
}

}  // namespace reelfarm::gateway
