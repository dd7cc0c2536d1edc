#include "reelfarm/store/ledger_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <chrono>

#include "reelfarm/common/metrics.hpp"

namespace reelfarm::ledger_metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

struct families {
  Family<Counter>& charged;
  Family<Counter>& refunded;
  Family<Counter>& granted;
  Family<Counter>& purchased;
  Family<Counter>& reversed;
  Family<Histogram>& duration;
  Family<Counter>& errors;
  Family<Counter>& retries;
  Gauge& audit_problems;
  Family<Counter>& audit_runs;
  Gauge& audit_last;
};

families& get() {
  auto& r = metrics::registry();
  auto counter = [&](const char* name, const char* help) -> Family<Counter>& {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r);
  };
  auto gauge = [&](const char* name, const char* help) -> Gauge& {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
  };
  static families f{
      counter("reelfarm_credits_charged_total",
              "Credits deducted for render jobs, by the user's plan"),
      counter("reelfarm_credits_refunded_total",
              "Credits refunded for failed jobs, by the user's plan"),
      counter("reelfarm_credits_granted_total",
              "Credits granted (welcome, upgrades, monthly resets, top-ups), by the user's plan"),
      counter("reelfarm_credits_purchased_total", "Credits bought, by the user's plan"),
      counter("reelfarm_credits_reversed_total",
              "Unused credits taken back when a payment was refunded, by the user's plan"),
      prometheus::BuildHistogram()
          .Name("reelfarm_ledger_operation_duration_seconds")
          .Help("Duration of one credit ledger call, retries included, by operation")
          .Register(r),
      counter("reelfarm_ledger_operation_errors_total",
              "Credit ledger calls that returned an error, by operation"),
      counter("reelfarm_ledger_retries_total",
              "Credit ledger attempts repeated with the same key after a lost connection or a "
              "serialization conflict, by operation"),
      gauge("reelfarm_ledger_audit_problems",
            "Ledger invariant violations found by the last audit (0: consistent)"),
      counter("reelfarm_ledger_audit_runs_total", "Ledger audits run, by result"),
      gauge("reelfarm_ledger_audit_last_run_timestamp_seconds",
            "Unix time at which the last ledger audit finished"),
  };
  return f;
}

Family<Counter>* family_of(credit_kind kind) {
  auto& f = get();
  switch (kind) {
    case credit_kind::deduction:
      return &f.charged;
    case credit_kind::refund:
      return &f.refunded;
    case credit_kind::grant:
    case credit_kind::reset:
      return &f.granted;
    case credit_kind::purchase:
      return &f.purchased;
    case credit_kind::reversal:
      return &f.reversed;
  }
  return nullptr;
}

}  // namespace

void declare_plans(const plan_catalog& plans) {
  auto& f = get();
  for (const auto& p : plans.plans()) {
    for (auto* fam : {&f.charged, &f.refunded, &f.granted, &f.purchased, &f.reversed}) {
      fam->Add({{"plan", p.name}});
    }
  }
  for (const char* r : {"consistent", "inconsistent", "error"}) {
    f.audit_runs.Add({{"result", r}});
  }
}

void count_movement(const ledger_entry& entry, const std::string& plan) {
  if (entry.replayed || entry.amount <= 0) {
    return;
  }
  if (auto* fam = family_of(entry.kind)) {
    fam->Add({{"plan", plan.empty() ? "unknown" : plan}})
        .Increment(static_cast<double>(entry.amount));
  }
}

void observe_operation(std::string_view operation, double seconds, bool ok) {
  auto& f = get();
  const std::string op(operation);
  f.duration.Add({{"operation", op}}, metrics::latency_buckets())
      .Observe(seconds < 0 ? 0 : seconds);
  auto& errors = f.errors.Add({{"operation", op}});
  if (!ok) {
    errors.Increment();
  }
}

void count_retry(std::string_view operation) {
  get().retries.Add({{"operation", std::string(operation)}}).Increment();
}

void audit_finished(long problems) {
  auto& f = get();
  const char* result = problems < 0 ? "error" : problems == 0 ? "consistent" : "inconsistent";
  f.audit_runs.Add({{"result", result}}).Increment();
  if (problems >= 0) {
    f.audit_problems.Set(static_cast<double>(problems));
  }
  f.audit_last.Set(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace reelfarm::ledger_metrics
