#include "reelfarm/store/credit_ledger.hpp"
#include "reelfarm/store/ledger_metrics.hpp"

#include <pqxx/pqxx>

#include <thread>

#include "reelfarm/common/log.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm {
namespace {

constexpr const char* result_columns =
    "id, user_id::text, kind, amount, delta, balance_after, description, job_id, payment_ref, "
    "refund_of, idempotency_key, to_char(created_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), replayed";

template <class T>
std::optional<T> optional_field(const pqxx::field& f) {
  if (f.is_null()) {
    return std::nullopt;
  }
  return f.as<T>();
}

ledger_entry entry_from(const pqxx::row& row) {
  ledger_entry e;
  e.id = row[0].as<std::int64_t>();
  e.user_id = row[1].as<std::string>();
  e.kind = parse_credit_kind(row[2].as<std::string>()).value();
  e.amount = row[3].as<std::int64_t>();
  e.delta = row[4].as<std::int64_t>();
  e.balance_after = row[5].as<std::int64_t>();
  e.description = row[6].as<std::string>();
  e.job_id = optional_field<std::string>(row[7]);
  e.payment_ref = optional_field<std::string>(row[8]);
  e.refund_of = optional_field<std::int64_t>(row[9]);
  e.idempotency_key = row[10].as<std::string>();
  e.created_at = row[11].as<std::string>();
  e.replayed = row[12].as<bool>();
  return e;
}

std::string select_from(const std::string& call) {
  return std::string("SELECT ") + result_columns + " FROM " + call;
}

// Failures after which the same call, with the same key, may succeed: the
// connection or server went away (the commit may or may not have happened:
// the key makes the retry safe), or a lock/uniqueness race was lost.
bool retryable(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr ||
      dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr ||
      dynamic_cast<const pqxx::unique_violation*>(&e) != nullptr) {
    return true;
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const auto& state = sql->sqlstate();
    // 57P01-03: terminated by an administrator, server shutting down or
    // starting up; 08: connection exceptions.
    return state.rfind("57P", 0) == 0 || state.rfind("08", 0) == 0;
  }
  return false;
}

// A connection whose last statement failed this way cannot be trusted.
bool connection_suspect(const std::exception& e) {
  return retryable(e) && dynamic_cast<const pqxx::transaction_rollback*>(&e) == nullptr &&
         dynamic_cast<const pqxx::unique_violation*>(&e) == nullptr;
}

void validate_amount(std::int64_t amount) {
  if (amount <= 0) {
    throw std::invalid_argument("an amount of credits must be positive, not " +
                                std::to_string(amount));
  }
}

void validate_key(const std::string& key) {
  if (key.empty() || key.size() > 200) {
    throw std::invalid_argument("an idempotency key must have 1 to 200 characters");
  }
}

std::int64_t days_since_epoch(std::chrono::sys_days d) {
  return d.time_since_epoch().count();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The plan a movement is counted under (metrics label); one indexed read.
std::string plan_of(pqxx::transaction_base& tx, const std::string& user_id) {
  auto r = tx.exec_params("SELECT plan FROM users WHERE id = $1::uuid", user_id);
  return r.empty() ? std::string() : r[0][0].as<std::string>();
}

}  // namespace

credit_ledger::credit_ledger(pg_pool& pool, plan_catalog plans, balance_cache* cache,
                             ledger_retry retry)
    : pool_(pool), plans_(std::move(plans)), cache_(cache), retry_(retry) {
  ledger_metrics::declare_plans(plans_);
}

error credit_ledger::ledger_error_from(const std::exception& e) {
  if (dynamic_cast<const std::invalid_argument*>(&e) != nullptr) {
    return error(store_errc::invalid_argument, e.what());
  }
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (sql == nullptr) {
    if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
        dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
      return error(store_errc::connection,
                   std::string("the ledger lost its PostgreSQL connection: ") + e.what());
    }
    return error(store_errc::query, std::string("a ledger statement failed: ") + e.what());
  }
  // The first line of the server's message is the sentence for people.
  std::string message = sql->what();
  if (auto pos = message.find("ERROR:  "); pos != std::string::npos) {
    message = message.substr(pos + 8);
  }
  if (auto nl = message.find('\n'); nl != std::string::npos) {
    message.resize(nl);
  }
  const auto& state = sql->sqlstate();
  if (state == "RF402") {
    return error(store_errc::insufficient_credits, message);
  }
  if (state == "RF404") {
    return error(store_errc::not_found, message);
  }
  if (state == "RF409") {
    return error(store_errc::conflict, message);
  }
  if (state == "RF410") {
    return error(store_errc::job_cancelled, message);
  }
  if (state.rfind("22", 0) == 0 || state == "23514") {
    return error(store_errc::invalid_argument, message);
  }
  return error(store_errc::query, "a ledger statement failed: " + message);
}

template <class T>
result<T> credit_ledger::run(const char* what, const std::function<T(pqxx::connection&)>& body) {
  auto backoff = retry_.first_backoff;
  const auto started = std::chrono::steady_clock::now();
  for (int attempt = 1;; ++attempt) {
    std::optional<error> failure;
    bool again = false;
    auto conn = pool_.acquire();
    if (!conn) {
      failure = conn.error();
      again = true;  // the server may be restarting
    } else {
      try {
        auto value = body(**conn);
        ledger_metrics::observe_operation(what, seconds_since(started), true);
        return value;
      } catch (const std::exception& e) {
        again = retryable(e);
        if (connection_suspect(e)) {
          conn->discard();
        }
        failure = ledger_error_from(e);
      }
    }
    if (!again || attempt >= retry_.max_attempts) {
      if (again) {
        log::warn("ledger", "giving up after retries",
                  {{"operation", what}, {"attempts", attempt}, {"error", failure->message()}});
      }
      ledger_metrics::observe_operation(what, seconds_since(started), false);
      return *failure;
    }
    ledger_metrics::count_retry(what);
    log::debug("ledger", "retrying with the same key",
               {{"operation", what}, {"attempt", attempt}, {"error", failure->message()}});
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, retry_.max_backoff);
  }
}

result<ledger_entry> credit_ledger::post(const char* what, const std::string& sql_call,
                                         const std::vector<std::string>& params) {
  std::string plan;
  auto done = run<ledger_entry>(what, [&](pqxx::connection& conn) {
    // One statement in autocommit: the function is atomic and needs a
    // single round trip.
    pqxx::nontransaction tx(conn);
    pqxx::result r;
    switch (params.size()) {
      case 4:
        r = tx.exec_params(select_from(sql_call), params[0], params[1], params[2], params[3]);
        break;
      case 5:
        r = tx.exec_params(select_from(sql_call), params[0], params[1], params[2], params[3],
                           params[4]);
        break;
      default:
        r = tx.exec_params(select_from(sql_call), params[0], params[1], params[2], params[3],
                           params[4], params[5]);
    }
    auto entry = entry_from(r.at(0));
    if (!entry.replayed) {
      plan = plan_of(tx, entry.user_id);
    }
    return entry;
  });
  if (done) {
    refresh_cache(*done);
    ledger_metrics::count_movement(*done, plan);
  }
  return done;
}

void credit_ledger::refresh_cache(const ledger_entry& entry) {
  if (cache_ != nullptr) {
    cache_->put(entry.user_id, {entry.balance_after, entry.id});
  }
}

result<ledger_entry> credit_ledger::grant(const std::string& user_id, std::int64_t amount,
                                          const std::string& description, const std::string& key) {
  try {
    validate_amount(amount);
    validate_key(key);
  } catch (const std::exception& e) {
    return ledger_error_from(e);
  }
  return post("grant", "credit_add($1::uuid, 'grant', $2::bigint, $3, NULL, $4)",
              {user_id, std::to_string(amount), description, key});
}

result<ledger_entry> credit_ledger::purchase(const std::string& user_id, std::int64_t amount,
                                             const std::string& payment_ref,
                                             const std::string& description,
                                             const std::string& key) {
  try {
    validate_amount(amount);
    validate_key(key);
    if (payment_ref.empty()) {
      throw std::invalid_argument("a purchase needs the payment's reference");
    }
  } catch (const std::exception& e) {
    return ledger_error_from(e);
  }
  return post("purchase", "credit_add($1::uuid, 'purchase', $2::bigint, $3, $4, $5)",
              {user_id, std::to_string(amount), description, payment_ref, key});
}

result<ledger_entry> credit_ledger::charge(const std::string& user_id, const std::string& job_id,
                                           std::int64_t amount, const std::string& description,
                                           const std::string& key) {
  try {
    validate_amount(amount);
    validate_key(key);
    if (job_id.empty()) {
      throw std::invalid_argument("a charge needs the job's id");
    }
  } catch (const std::exception& e) {
    return ledger_error_from(e);
  }
  return post("charge", "credit_charge($1::uuid, $2, $3::bigint, $4, $5)",
              {user_id, job_id, std::to_string(amount), description, key});
}

result<ledger_entry> credit_ledger::refund(const std::string& user_id, const std::string& job_id,
                                           const std::string& description, const std::string& key) {
  try {
    validate_key(key);
  } catch (const std::exception& e) {
    return ledger_error_from(e);
  }
  return post("refund", "credit_refund($1::uuid, $2, $3, $4)", {user_id, job_id, description, key});
}

ledger_entry credit_ledger::charge_in(pqxx::transaction_base& tx, const std::string& user_id,
                                      const std::string& job_id, std::int64_t amount,
                                      const std::string& description, const std::string& key) {
  validate_amount(amount);
  validate_key(key);
  const auto started = std::chrono::steady_clock::now();
  auto entry =
      entry_from(tx.exec_params1(select_from("credit_charge($1::uuid, $2, $3::bigint, $4, $5)"),
                                 user_id, job_id, amount, description, key));
  // Counted when the statement succeeds; the caller's transaction commits
  // right after (job_repository), so a rollback here is a rare miscount.
  ledger_metrics::observe_operation("charge_in", seconds_since(started), true);
  ledger_metrics::count_movement(entry, entry.replayed ? "" : plan_of(tx, user_id));
  return entry;
}

ledger_entry credit_ledger::refund_in(pqxx::transaction_base& tx, const std::string& user_id,
                                      const std::string& job_id, const std::string& description,
                                      const std::string& key) {
  validate_key(key);
  const auto started = std::chrono::steady_clock::now();
  auto entry = entry_from(tx.exec_params1(select_from("credit_refund($1::uuid, $2, $3, $4)"),
                                          user_id, job_id, description, key));
  ledger_metrics::observe_operation("refund_in", seconds_since(started), true);
  ledger_metrics::count_movement(entry, entry.replayed ? "" : plan_of(tx, user_id));
  return entry;
}

result<cancel_outcome> credit_ledger::cancel(const std::string& user_id,
                                             const std::string& job_id) {
  return run<cancel_outcome>("cancel", [&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    auto charged =
        tx.exec_params1("SELECT credit_cancel($1::uuid, $2)", user_id, job_id)[0].as<bool>();
    return charged ? cancel_outcome::charge_kept : cancel_outcome::nothing_charged;
  });
}

result<job_charge_state> credit_ledger::charge_state(const std::string& job_id) {
  return run<job_charge_state>("charge_state", [&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    auto row = tx.exec_params1(
        "SELECT (SELECT was_charged FROM credit_job_cancellations WHERE job_id = $1),"
        "       EXISTS (SELECT 1 FROM credit_transactions WHERE kind = 'deduction' AND job_id = "
        "$1),"
        "       EXISTS (SELECT 1 FROM credit_transactions WHERE kind = 'refund' AND job_id = $1)",
        job_id);
    if (!row[0].is_null()) {
      return row[0].as<bool>() ? job_charge_state::cancelled_after_start
                               : job_charge_state::cancelled_before_start;
    }
    if (row[2].as<bool>()) {
      return job_charge_state::refunded;
    }
    return row[1].as<bool>() ? job_charge_state::charged : job_charge_state::not_charged;
  });
}

result<std::optional<ledger_entry>> credit_ledger::reset_if_due(const std::string& user_id,
                                                                std::chrono::sys_days today) {
  std::string counted_plan;
  auto done = run<std::optional<ledger_entry>>("reset", [&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    auto plan_name = tx.exec_params1("SELECT plan FROM credit_lock_user($1::uuid)", user_id)[0]
                         .as<std::string>();
    const auto* p = plans_.find(plan_name);
    if (p == nullptr) {
      log::warn("ledger", "user on an unknown plan: renewed with the default plan's credits",
                {{"user", user_id}, {"plan", plan_name}});
      p = &plans_.default_plan();
    }
    auto r = tx.exec_params1(
        select_from("credit_reset($1::uuid, (date '1970-01-01' + $2::int), $3::bigint, $4)"),
        user_id, days_since_epoch(today), p->monthly_credits.value_or(0),
        "monthly credits of the " + p->display_name + " plan");
    tx.commit();
    counted_plan = plan_name;
    return r[0].is_null() ? std::nullopt : std::optional<ledger_entry>(entry_from(r));
  });
  if (done && done->has_value()) {
    refresh_cache(**done);
    ledger_metrics::count_movement(**done, counted_plan);
  }
  return done;
}

result<std::int64_t> credit_ledger::reset_all_due(std::chrono::sys_days today) {
  auto due = run<std::vector<std::string>>("reset_all_due", [&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    std::vector<std::string> ids;
    for (const auto& row : tx.exec_params("SELECT id::text FROM users WHERE credits_reset_date <= "
                                          "(date '1970-01-01' + $1::int) ORDER BY id",
                                          days_since_epoch(today))) {
      ids.push_back(row[0].as<std::string>());
    }
    return ids;
  });
  if (!due) {
    return due.error();
  }
  std::int64_t renewed = 0;
  for (const auto& id : *due) {
    // One transaction per user: a failure leaves the others renewed, and a
    // second run skips those whose date already moved on.
    auto one = reset_if_due(id, today);
    if (!one) {
      return one.error();
    }
    ++renewed;
  }
  return renewed;
}

result<plan_change> credit_ledger::change_plan(const std::string& user_id,
                                               const std::string& plan_name, const std::string& key,
                                               const std::optional<plan_change_audit>& audit) {
  auto target = plans_.get(plan_name);
  if (!target) {
    return target.error();
  }
  auto done = run<plan_change>("change_plan", [&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    plan_change out;
    out.from = tx.exec_params1("SELECT plan FROM credit_lock_user($1::uuid)", user_id)[0]
                   .as<std::string>();
    out.to = target->name;
    auto grant_key = "plan:" + key;
    if (out.from == out.to) {
      // Already there: a retry after a lost acknowledgement finds its grant.
      auto prior =
          tx.exec_params(select_from("(SELECT t.*, true AS replayed FROM credit_transactions t "
                                     "WHERE user_id = $1::uuid AND idempotency_key = $2) x"),
                         user_id, grant_key);
      if (!prior.empty()) {
        out.changed = true;
        out.grant = entry_from(prior[0]);
      }
      return out;
    }
    const auto* from = plans_.find(out.from);
    tx.exec_params0(
        "UPDATE users SET plan = $2, credits_unlimited = $3, updated_at = now() WHERE id = "
        "$1::uuid",
        user_id, target->name, target->unlimited());
    std::int64_t extra = 0;
    if (from != nullptr && !from->unlimited() && !target->unlimited()) {
      extra = *target->monthly_credits - *from->monthly_credits;
    }
    if (extra > 0) {
      out.grant = entry_from(tx.exec_params1(
          select_from("credit_add($1::uuid, 'grant', $2::bigint, $3, NULL, $4)"), user_id, extra,
          "upgrade from " + from->display_name + " to " + target->display_name, grant_key));
    }
    if (audit) {
      tx.exec_params0(
          "INSERT INTO logs (user_id, action, message) "
          "VALUES ($1::uuid, 'plan.changed_by_admin', $2)",
          user_id,
          "plan " + out.from + " -> " + out.to + " by administrator " + audit->actor_id + ": " +
              audit->reason);
    }
    tx.commit();
    out.changed = true;
    return out;
  });
  if (done && done->grant) {
    refresh_cache(*done->grant);
    ledger_metrics::count_movement(*done->grant, done->to);
  }
  return done;
}

result<std::int64_t> credit_ledger::balance(const std::string& user_id) {
  if (cache_ != nullptr) {
    if (auto cached = cache_->get(user_id)) {
      return cached->balance;
    }
  }
  auto read = run<cached_balance>("balance", [&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec_params(
        "SELECT credits_balance, (SELECT coalesce(max(id), 0) FROM credit_transactions "
        "WHERE user_id = $1::uuid) FROM users WHERE id = $1::uuid",
        user_id);
    if (r.empty()) {
      throw pqxx::sql_error("ERROR:  user " + user_id + " does not exist", "", "RF404");
    }
    return cached_balance{r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>()};
  });
  if (!read) {
    return read.error();
  }
  if (cache_ != nullptr) {
    cache_->put(user_id, *read);
  }
  return read->balance;
}

result<std::vector<ledger_entry>> credit_ledger::history(const std::string& user_id, int limit) {
  return run<std::vector<ledger_entry>>("history", [&](pqxx::connection& conn) {
    pqxx::nontransaction tx(conn);
    std::vector<ledger_entry> out;
    for (const auto& row : tx.exec_params(
             select_from("(SELECT t.*, false AS replayed FROM credit_transactions t "
                         "WHERE user_id = $1::uuid ORDER BY id DESC LIMIT $2) x ORDER BY id DESC"),
             user_id, limit)) {
      out.push_back(entry_from(row));
    }
    return out;
  });
}

result<ledger_audit> credit_ledger::audit() {
  auto conn = pool_.acquire();
  if (!conn) {
    return conn.error();
  }
  auto report = audit_ledger(**conn);
  if (!report) {
    conn->discard();
  }
  return report;
}

result<std::vector<ledger_entry>> credit_ledger::transact(
    const char* what,
    const std::function<void(pqxx::transaction_base& tx, std::vector<ledger_entry>& moved)>& body) {
  std::vector<std::string> plans;
  auto done = run<std::vector<ledger_entry>>(what, [&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    std::vector<ledger_entry> moved;
    body(tx, moved);
    plans.clear();
    for (const auto& e : moved) {
      plans.push_back(e.replayed ? std::string() : plan_of(tx, e.user_id));
    }
    tx.commit();
    return moved;
  });
  if (done) {
    for (std::size_t i = 0; i < done->size(); ++i) {
      refresh_cache((*done)[i]);
      ledger_metrics::count_movement((*done)[i], plans[i]);
    }
  }
  return done;
}

ledger_entry credit_ledger::purchase_in(pqxx::transaction_base& tx, const std::string& user_id,
                                        std::int64_t amount, const std::string& payment_ref,
                                        const std::string& description, const std::string& key) {
  validate_amount(amount);
  validate_key(key);
  return entry_from(
      tx.exec_params1(select_from("credit_add($1::uuid, 'purchase', $2::bigint, $3, $4, $5)"),
                      user_id, amount, description, payment_ref, key));
}

std::optional<ledger_entry> credit_ledger::renew_in(pqxx::transaction_base& tx,
                                                    const std::string& user_id,
                                                    std::int64_t plan_credits,
                                                    const std::string& description,
                                                    const std::string& key) {
  validate_key(key);
  auto r = tx.exec_params1(select_from("credit_renew($1::uuid, $2::bigint, $3, $4)"), user_id,
                           plan_credits, description, key);
  if (r[0].is_null()) {
    return std::nullopt;
  }
  return entry_from(r);
}

std::optional<ledger_entry> credit_ledger::reverse_in(
    pqxx::transaction_base& tx, const std::string& user_id, std::int64_t amount,
    const std::string& payment_ref, const std::string& description, const std::string& key) {
  validate_amount(amount);
  validate_key(key);
  auto r = tx.exec_params1(select_from("credit_reverse($1::uuid, $2::bigint, $3, $4, $5)"), user_id,
                           amount, payment_ref, description, key);
  if (r[0].is_null()) {
    return std::nullopt;
  }
  return entry_from(r);
}

void credit_ledger::set_plan_in(pqxx::transaction_base& tx, const std::string& user_id,
                                const plan& target,
                                std::optional<std::chrono::sys_days> renews_on) {
  std::optional<std::int64_t> days;
  if (renews_on) {
    days = days_since_epoch(*renews_on);
  }
  tx.exec_params1("SELECT id FROM credit_lock_user($1::uuid)", user_id);
  tx.exec_params0(
      "UPDATE users SET plan = $2, credits_unlimited = $3, "
      "credits_reset_date = CASE WHEN $4::bigint IS NULL THEN NULL "
      "ELSE date '1970-01-01' + $4::int END, updated_at = now() WHERE id = $1::uuid",
      user_id, target.name, target.unlimited(), days);
}

}  // namespace reelfarm
