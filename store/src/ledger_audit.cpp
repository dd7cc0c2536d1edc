#include "reelfarm/store/ledger_audit.hpp"

#include <pqxx/pqxx>

#include "reelfarm/store/errc.hpp"
#include "reelfarm/store/ledger_metrics.hpp"

namespace reelfarm {
namespace {

// Each check returns a few offending rows as one text column: a sentence.
constexpr const char* checks[] = {
    // The balance is the sum of the user's transactions.
    R"sql(SELECT 'user ' || u.id || ': balance ' || u.credits_balance || ' but its transactions sum to '
             || coalesce(s.total, 0)
        FROM users u LEFT JOIN (SELECT user_id, sum(delta) AS total FROM credit_transactions
                                 GROUP BY user_id) s ON s.user_id = u.id
       WHERE u.credits_balance <> coalesce(s.total, 0) LIMIT 20)sql",
    R"sql(SELECT 'user ' || id || ': negative balance ' || credits_balance
        FROM users WHERE credits_balance < 0 LIMIT 20)sql",
    // Every balance_after is the running sum up to and including its row.
    R"sql(SELECT 'transaction ' || id || ': balance_after ' || balance_after || ' but the running sum is '
             || running
        FROM (SELECT id, balance_after,
                     sum(delta) OVER (PARTITION BY user_id ORDER BY id) AS running
                FROM credit_transactions) x
       WHERE balance_after <> running OR balance_after < 0 LIMIT 20)sql",
    R"sql(SELECT 'job ' || job_id || ': ' || count(*) || ' ' || kind || 's'
        FROM credit_transactions WHERE kind IN ('deduction', 'refund')
       GROUP BY job_id, kind HAVING count(*) > 1 LIMIT 20)sql",
    // A refund undoes exactly one deduction of the same user and job.
    R"sql(SELECT 'refund ' || r.id || ' of job ' || r.job_id || ' does not undo its deduction'
        FROM credit_transactions r
        LEFT JOIN credit_transactions d ON d.id = r.refund_of
       WHERE r.kind = 'refund'
         AND (d.id IS NULL OR d.kind <> 'deduction' OR d.user_id <> r.user_id
              OR d.job_id <> r.job_id OR d.amount <> r.amount OR d.delta <> -r.delta
              OR d.id > r.id) LIMIT 20)sql",
    R"sql(SELECT 'transaction ' || id || ': ' || kind || ' with amount ' || amount || ' and delta ' || delta
        FROM credit_transactions
       WHERE amount <= 0
          OR (kind = 'deduction' AND delta NOT IN (-amount, 0))
          OR (kind = 'refund' AND delta NOT IN (amount, 0))
          OR (kind = 'reversal' AND delta <> -amount)
          OR (kind IN ('purchase', 'grant', 'reset') AND delta <> amount) LIMIT 20)sql",
    // Cancelled before start: never charged. Cancelled after start: never refunded.
    R"sql(SELECT 'job ' || c.job_id || ': cancelled ' ||
             CASE WHEN c.was_charged THEN 'after start but refunded' ELSE 'before start but charged' END
        FROM credit_job_cancellations c
        JOIN credit_transactions t ON t.job_id = c.job_id
       WHERE (NOT c.was_charged AND t.kind = 'deduction') OR t.kind = 'refund' LIMIT 20)sql",
};

}  // namespace

result<ledger_audit> audit_ledger(pqxx::connection& conn) {
  try {
    pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(
        conn);
    ledger_audit out;
    out.users = tx.exec1("SELECT count(*) FROM users")[0].as<std::int64_t>();
    out.transactions = tx.exec1("SELECT count(*) FROM credit_transactions")[0].as<std::int64_t>();
    for (const char* check : checks) {
      for (const auto& row : tx.exec(check)) {
        out.problems.push_back(row[0].as<std::string>());
      }
    }
    tx.commit();
    ledger_metrics::audit_finished(static_cast<long>(out.problems.size()));
    return out;
  } catch (const std::exception& e) {
    ledger_metrics::audit_finished(-1);
    return error(store_errc::query, std::string("the ledger audit failed: ") + e.what());
  }
}

}  // namespace reelfarm
