#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/balance_cache.hpp"
#include "reelfarm/store/ledger_audit.hpp"
#include "reelfarm/store/ledger_entry.hpp"
#include "reelfarm/store/pg_pool.hpp"
#include "reelfarm/store/plan_catalog.hpp"

namespace reelfarm {

/// How hard an operation tries when the connection breaks, the commit is in
/// doubt or the server restarts: bounded attempts with capped backoff.
struct ledger_retry {
  int max_attempts = 8;
  std::chrono::milliseconds first_backoff{10};
  std::chrono::milliseconds max_backoff{1000};
};

/// What cancelling a job meant for its credits.
enum class cancel_outcome {
  nothing_charged,  ///< cancelled before start: no charge, and none can follow
  charge_kept,      ///< cancelled after processing started: charged, not refunded
};

/// The outcome of a plan change.
struct plan_change {
  std::string from;
  std::string to;
  bool changed = false;               ///< false when the user was already on `to`
  std::optional<ledger_entry> grant;  ///< the upgrade's extra credits, if any
};

/// Who changed a user's plan by hand, and why: written to the audit trail
/// (`logs`) in the transaction that changes the plan.
struct plan_change_audit {
  std::string actor_id;  ///< the administrator
  std::string reason;
};

/// The credit ledger (see docs/ledger.md). Every operation is one
/// transaction on PostgreSQL that locks the user's row, checks the
/// idempotency key, appends one row to credit_transactions and updates the
/// user's balance. Calling again with the same key returns the first result
/// (`replayed`), which makes it safe to retry after any failure, including a
/// lost acknowledgement. Thread-safe.
class credit_ledger {
 public:
  /// `cache` may be null (no Redis). The pool and cache must outlive the ledger.
  credit_ledger(pg_pool& pool, plan_catalog plans, balance_cache* cache = nullptr,
                ledger_retry retry = {});

  /// Free credits (welcome credits, support gestures).
  result<ledger_entry> grant(const std::string& user_id, std::int64_t amount,
                             const std::string& description, const std::string& key);
  /// A paid top-up; `payment_ref` (the payment provider's id) is credited once.
  result<ledger_entry> purchase(const std::string& user_id, std::int64_t amount,
                                const std::string& payment_ref, const std::string& description,
                                const std::string& key);
  /// The charge at render start. insufficient_credits when the balance is
  /// short (nothing is written); job_cancelled when the job was cancelled
  /// before it started; a second charge for the job returns the first.
  result<ledger_entry> charge(const std::string& user_id, const std::string& job_id,
                              std::int64_t amount, const std::string& description,
                              const std::string& key);
  /// The full refund of a failed job's charge, once. not_found when the job
  /// was never charged; job_cancelled when the user cancelled it after start.
  result<ledger_entry> refund(const std::string& user_id, const std::string& job_id,
                              const std::string& description, const std::string& key);
  /// The user cancels a job: before its charge nothing is charged (and a
  /// later charge is refused); after it the charge stays. Idempotent.
  result<cancel_outcome> cancel(const std::string& user_id, const std::string& job_id);
  /// Where a job stands (see `job_charge_state`).
  result<job_charge_state> charge_state(const std::string& job_id);

  /// The monthly reset for one user when the renewal date is at or before
  /// `today`: raises the balance to the plan's monthly credits and moves the
  /// renewal date a month on. nullopt when nothing was due or nothing moved.
  /// Running it twice for the same day changes nothing the second time.
  result<std::optional<ledger_entry>> reset_if_due(const std::string& user_id,
                                                   std::chrono::sys_days today);
  /// `reset_if_due` for every user whose renewal date is due; returns how
  /// many users were renewed.
  result<std::int64_t> reset_all_due(std::chrono::sys_days today);

  /// Moves the user to another plan. Upgrades to a plan with more monthly
  /// credits grant the difference at once (key "plan:<key>"); downgrades take
  /// effect at the next renewal and take no credits away.
  /// With `audit`, the change is recorded in `logs` (action
  /// "plan.changed_by_admin") in the same transaction.
  result<plan_change> change_plan(const std::string& user_id, const std::string& plan_name,
                                  const std::string& key,
                                  const std::optional<plan_change_audit>& audit = std::nullopt);

  /// The balance (from the cache when it has one, else PostgreSQL).
  result<std::int64_t> balance(const std::string& user_id);
  /// The newest `limit` transactions of a user, newest first.
  result<std::vector<ledger_entry>> history(const std::string& user_id, int limit = 50);
  /// Checks every invariant (see `ledger_audit`).
  result<ledger_audit> audit();

  const plan_catalog& plans() const noexcept { return plans_; }

  /// The charge as a statement of a caller's own transaction (the job layer
  /// marks the job started in the same transaction). Throws what libpqxx
  /// throws; call `ledger_error_from` in the handler. No retry, no cache.
  static ledger_entry charge_in(pqxx::transaction_base& tx, const std::string& user_id,
                                const std::string& job_id, std::int64_t amount,
                                const std::string& description, const std::string& key);
  /// The refund inside a caller's transaction (the job marked failed).
  static ledger_entry refund_in(pqxx::transaction_base& tx, const std::string& user_id,
                                const std::string& job_id, const std::string& description,
                                const std::string& key);
  /// Translates an exception from the ledger's SQL into an error value.
  static error ledger_error_from(const std::exception& e);

  /// One transaction of a caller that moves credits together with its own
  /// rows (billing applies a Stripe event and stores its id in the same
  /// transaction). `body` runs inside it and appends the entries it wrote;
  /// after the commit they refresh the balance cache and the metrics. A lost
  /// connection or a serialization conflict runs `body` again from the
  /// start, so it must only make keyed, repeatable writes and reset anything
  /// it captured.
  result<std::vector<ledger_entry>> transact(
      const char* what,
      const std::function<void(pqxx::transaction_base& tx, std::vector<ledger_entry>& moved)>&
          body);

  /// A purchase inside a `transact` body (credit_add 'purchase').
  static ledger_entry purchase_in(pqxx::transaction_base& tx, const std::string& user_id,
                                  std::int64_t amount, const std::string& payment_ref,
                                  const std::string& description, const std::string& key);
  /// Raises the balance to `plan_credits` once per key (a paid subscription
  /// period); nullopt when nothing moved (unlimited plan, or the balance
  /// was already there).
  static std::optional<ledger_entry> renew_in(pqxx::transaction_base& tx,
                                              const std::string& user_id, std::int64_t plan_credits,
                                              const std::string& description,
                                              const std::string& key);
  /// Takes back up to `amount` credits of the refunded payment `payment_ref`,
  /// never more than the balance; nullopt when nothing moved.
  static std::optional<ledger_entry> reverse_in(pqxx::transaction_base& tx,
                                                const std::string& user_id, std::int64_t amount,
                                                const std::string& payment_ref,
                                                const std::string& description,
                                                const std::string& key);
  /// Puts the user on `target` (no credits move; `renew_in` gives a paid
  /// plan's credits). With `renews_on` the calendar renewal date is set
  /// (a plan Reelfarm renews itself), else cleared (Stripe renews it).
  static void set_plan_in(pqxx::transaction_base& tx, const std::string& user_id,
                          const plan& target, std::optional<std::chrono::sys_days> renews_on);

 private:
  template <class T>
  result<T> run(const char* what, const std::function<T(pqxx::connection&)>& body);
  result<ledger_entry> post(const char* what, const std::string& sql_call,
                            const std::vector<std::string>& params);
  void refresh_cache(const ledger_entry& entry);
  pg_pool& pool_;
  plan_catalog plans_;
  balance_cache* cache_;
  ledger_retry retry_;
};

}  // namespace reelfarm
