#include "reelfarm/store/account_repository.hpp"

#include <pqxx/pqxx>

#include "reelfarm/common/log.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm {
namespace {

constexpr const char* user_columns =
    "id::text, email, full_name, role, plan, credits_balance, credits_unlimited, "
    "credits_reset_date - date '1970-01-01', "
    "(extract(epoch FROM created_at) * 1000000)::bigint, "
    "(extract(epoch FROM updated_at) * 1000000)::bigint, "
    "(extract(epoch FROM last_login_at) * 1000000)::bigint, password_hash, data_sharing_opt_in, "
    "(extract(epoch FROM data_sharing_opt_in_at) * 1000000)::bigint";

std::chrono::system_clock::time_point from_micros(std::int64_t us) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::microseconds(us)));
}

user_account account_from(const pqxx::row& row) {
  user_account u;
  u.id = row[0].as<std::string>();
  u.email = row[1].as<std::string>();
  u.full_name = row[2].as<std::string>();
  u.role = row[3].as<std::string>();
  u.plan = row[4].as<std::string>();
  u.credits_balance = row[5].as<std::int64_t>();
  u.credits_unlimited = row[6].as<bool>();
  if (!row[7].is_null()) {
    u.credits_reset_date = std::chrono::sys_days(std::chrono::days(row[7].as<int>()));
  }
  u.created_at = from_micros(row[8].as<std::int64_t>());
  u.updated_at = from_micros(row[9].as<std::int64_t>());
  if (!row[10].is_null()) {
    u.last_login_at = from_micros(row[10].as<std::int64_t>());
  }
  u.data_sharing_opt_in = row[12].as<bool>();
  if (!row[13].is_null()) {
    u.data_sharing_opt_in_at = from_micros(row[13].as<std::int64_t>());
  }
  return u;
}

std::string trimmed(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

result<void> validate(const new_user& user) {
  auto email = trimmed(user.email);
  auto at = email.find('@');
  if (email.size() > 254 || at == std::string::npos || at == 0 || at + 1 == email.size() ||
      email.find_first_of(" \t\r\n") != std::string::npos) {
    return error(store_errc::invalid_argument,
                 "'" + email + "' is not an email address (name@domain, at most 254 characters)");
  }
  if (user.role != "creator" && user.role != "admin") {
    return error(store_errc::invalid_argument,
                 "role '" + user.role + "' is not one of creator, admin");
  }
  if (user.full_name.size() > 200) {
    return error(store_errc::invalid_argument, "a name has at most 200 characters");
  }
  return ok();
}

error query_error(const char* what, const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return error(store_errc::connection, std::string(what) + ": " + e.what());
  }
  return error(store_errc::query, std::string(what) + ": " + e.what());
}

std::optional<std::string> own_insert(pqxx::connection& conn, const std::string& email,
                                      const std::string& hash) {
  try {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec_params(
        "SELECT id::text FROM users WHERE lower(email) = lower($1) AND password_hash = $2", email,
        hash);
    if (!r.empty()) {
      return r[0][0].as<std::string>();
    }
  } catch (const std::exception&) {
    // The caller reports the duplicate.
  }
  return std::nullopt;
}

}  // namespace

account_repository::account_repository(pg_pool& pool, plan_catalog plans, password_cost cost)
    : pool_(pool), plans_(std::move(plans)), cost_(cost) {}

result<user_account> account_repository::create(const new_user& user) {
  if (auto valid = validate(user); !valid) {
    return valid.error();
  }
  auto hash = hash_password(user.password, cost_);
  if (!hash) {
    return hash.error();
  }
  const auto& p = plans_.default_plan();
  auto email = trimmed(user.email);
  for (int attempt = 1;; ++attempt) {
    auto conn = pool_.acquire();
    if (!conn) {
      return conn.error();
    }
    try {
      pqxx::work tx(**conn);
      auto id =
          tx.exec_params1(
                "INSERT INTO users (email, password_hash, full_name, role, plan, "
                "credits_unlimited, credits_reset_date, credits_renewal_day) VALUES ($1, $2, $3, "
                "$4, $5, $6, (current_date + interval '1 month')::date, "
                "extract(day FROM current_date)) RETURNING id::text",
                email, *hash, user.full_name, user.role, p.name, p.unlimited())[0]
              .as<std::string>();
      if (p.monthly_credits.value_or(0) > 0) {
        tx.exec_params("SELECT credit_add($1::uuid, 'grant', $2::bigint, $3, NULL, 'signup')", id,
                       *p.monthly_credits, "welcome credits of the " + p.display_name + " plan");
      }
      tx.commit();
      log::info("accounts", "user created", {{"user", id}, {"plan", p.name}});
      return get(id);
    } catch (const pqxx::unique_violation&) {
      // Our own insert whose acknowledgement was lost carries our hash (its
      // salt is unique): finding it is success, not a duplicate.
      if (auto mine = own_insert(**conn, email, *hash)) {
        return get(*mine);
      }
      return error(store_errc::duplicate_email,
                   "a user with the email '" + email + "' already exists");
    } catch (const std::exception& e) {
      bool doubt = dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
                   dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr;
      conn->discard();
      if (!doubt || attempt >= 3) {
        return query_error("cannot create the user", e);
      }
    }
  }
}

result<user_account> account_repository::find(const std::string& where, const std::string& value) {
  auto conn = pool_.acquire();
  if (!conn) {
    return conn.error();
  }
  try {
    pqxx::nontransaction tx(**conn);
    auto r =
        tx.exec_params(std::string("SELECT ") + user_columns + " FROM users WHERE " + where, value);
    if (r.empty()) {
      return error(store_errc::not_found,
                   "no user with " + where.substr(0, where.find(' ')) + " '" + value + "'");
    }
    return account_from(r[0]);
  } catch (const pqxx::data_exception&) {
    return error(store_errc::not_found, "no user with id '" + value + "'");
  } catch (const std::exception& e) {
    conn->discard();
    return query_error("cannot read the user", e);
  }
}

result<user_account> account_repository::get(const std::string& id) {
  return find("id = $1::uuid", id);
}

result<user_account> account_repository::find_by_email(const std::string& email) {
  return find("lower(email) = lower($1)", trimmed(email));
}

result<user_account> account_repository::login(const std::string& email,
                                               const std::string& password) {
  auto refused = error(store_errc::password, "the email or the password is wrong");
  std::optional<std::string> id;
  std::string stored_hash;
  {
    // The connection goes back before hashing: Argon2id takes tens of
    // milliseconds, and the pool is smaller than the threads that hash.
    auto conn = pool_.acquire();
    if (!conn) {
      return conn.error();
    }
    try {
      pqxx::nontransaction tx(**conn);
      auto r =
          tx.exec_params("SELECT id::text, password_hash FROM users WHERE lower(email) = lower($1)",
                         trimmed(email));
      if (!r.empty()) {
        id = r[0][0].as<std::string>();
        stored_hash = r[0][1].as<std::string>();
      }
    } catch (const std::exception& e) {
      conn->discard();
      return query_error("cannot read the user", e);
    }
  }
  if (!id) {
    // Unknown email: verify against a real hash of the same cost, so this
    // answer takes as long as a wrong password and timing does not reveal
    // which emails have accounts. A decoy that cannot be made (no memory)
    // fails the login the same way a wrong password would.
    if (auto decoy = decoy_password_hash(cost_)) {
      (void)verify_password(password, *decoy);
    } else {
      log::warn("accounts", "no decoy password hash; unknown emails answer faster",
                {{"error", decoy.error().message()}});
    }
    return refused;
  }
  if (!verify_password(password, stored_hash)) {
    return refused;
  }
  if (password_needs_rehash(stored_hash, cost_)) {
    (void)set_password(*id, password);
  }
  if (auto recorded = record_login(*id); !recorded) {
    return recorded.error();
  }
  return get(*id);
}

result<void> account_repository::prepare_login() {
  auto decoy = decoy_password_hash(cost_);
  if (!decoy) {
    return std::move(decoy).error();
  }
  return ok();
}

result<void> account_repository::record_login(const std::string& id) {
  auto conn = pool_.acquire();
  if (!conn) {
    return conn.error();
  }
  try {
    pqxx::nontransaction tx(**conn);
    auto r = tx.exec_params("UPDATE users SET last_login_at = now() WHERE id = $1::uuid", id);
    if (r.affected_rows() == 0) {
      return error(store_errc::not_found, "no user with id '" + id + "'");
    }
    return ok();
  } catch (const std::exception& e) {
    conn->discard();
    return query_error("cannot record the login", e);
  }
}

result<void> account_repository::set_password(const std::string& id, const std::string& password) {
  auto hash = hash_password(password, cost_);
  if (!hash) {
    return hash.error();
  }
  auto conn = pool_.acquire();
  if (!conn) {
    return conn.error();
  }
  try {
    pqxx::nontransaction tx(**conn);
    auto r = tx.exec_params(
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1::uuid", id, *hash);
    if (r.affected_rows() == 0) {
      return error(store_errc::not_found, "no user with id '" + id + "'");
    }
    return ok();
  } catch (const std::exception& e) {
    conn->discard();
    return query_error("cannot set the password", e);
  }
}

result<void> account_repository::set_role(const std::string& id, const std::string& role) {
  if (role != "creator" && role != "admin") {
    return error(store_errc::invalid_argument, "role '" + role + "' is not one of creator, admin");
  }
  auto conn = pool_.acquire();
  if (!conn) {
    return conn.error();
  }
  try {
    pqxx::nontransaction tx(**conn);
    auto r = tx.exec_params("UPDATE users SET role = $2, updated_at = now() WHERE id = $1::uuid",
                            id, role);
    if (r.affected_rows() == 0) {
      return error(store_errc::not_found, "no user with id '" + id + "'");
    }
    return ok();
  } catch (const std::exception& e) {
    conn->discard();
    return query_error("cannot set the role", e);
  }
}

}  // namespace reelfarm
