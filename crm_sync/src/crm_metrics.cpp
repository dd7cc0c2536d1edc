#include "reelfarm/crm_sync/crm_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <pqxx/pqxx>

#include "reelfarm/common/log.hpp"
#include "reelfarm/common/metrics.hpp"

namespace reelfarm::crm::crm_metrics {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;

struct families {
  Gauge& pending;
  Gauge& oldest;
  Family<Counter>& calls;
  Gauge& usage;
  Gauge& limit;
  Family<Counter>& passes;
  Family<Counter>& records;
};

families& get() {
  auto& r = metrics::registry();
  auto gauge = [&](const char* name, const char* help) -> Gauge& {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
  };
  auto counter = [&](const char* name, const char* help) -> Family<Counter>& {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r);
  };
  static families f{
      gauge("reelfarm_crm_outbox_pending", "Outbox rows not yet mirrored into Salesforce"),
      gauge("reelfarm_crm_outbox_oldest_age_seconds",
            "Age of the oldest outbox row not yet mirrored (0 when none)"),
      counter("reelfarm_crm_salesforce_calls_total",
              "HTTP calls to Salesforce, by operation and result"),
      gauge("reelfarm_crm_salesforce_api_usage",
            "API calls the org used in the last 24 h, from the Sforce-Limit-Info header"),
      gauge("reelfarm_crm_salesforce_api_limit",
            "The org's API allowance per 24 h, from the Sforce-Limit-Info header"),
      counter("reelfarm_crm_sync_passes_total", "Outbox drain passes, by result"),
      counter("reelfarm_crm_records_total", "Outbox records settled, by result"),
  };
  return f;
}

constexpr const char* operations[] = {"token", "upsert_collection", "upsert", "query", "bulk",
                                      "other"};
constexpr const char* call_results[] = {"success", "client_error", "server_error",
                                        "transport_error"};

}  // namespace

void declare() {
  auto& f = get();
  for (const auto* op : operations) {
    for (const auto* r : call_results) {
      f.calls.Add({{"operation", op}, {"result", r}});
    }
  }
  for (const auto* r : {"ok", "stopped", "failed"})
    f.passes.Add({{"result", r}});
  for (const auto* r : {"done", "dead_lettered", "rescheduled"})
    f.records.Add({{"result", r}});
}

std::string_view operation_of(std::string_view path) noexcept {
  if (path.find("/oauth2/token") != std::string_view::npos)
    return "token";
  if (path.find("composite/sobjects") != std::string_view::npos)
    return "upsert_collection";
  if (path.find("jobs/ingest") != std::string_view::npos)
    return "bulk";
  if (path.find("query") != std::string_view::npos)
    return "query";
  if (path.find("sobjects/") != std::string_view::npos)
    return "upsert";
  return "other";
}

void salesforce_call(std::string_view path, int status) {
  const char* result = status <= 0     ? "transport_error"
                       : status >= 500 ? "server_error"
                       : status >= 400 ? "client_error"
                                       : "success";
  get().calls.Add({{"operation", std::string(operation_of(path))}, {"result", result}}).Increment();
}

void api_usage(const api_limit_info& info) {
  auto& f = get();
  f.usage.Set(static_cast<double>(info.used));
  f.limit.Set(static_cast<double>(info.max));
}

void pass(std::string_view result, long done, long dead_lettered, long rescheduled) {
  auto& f = get();
  f.passes.Add({{"result", std::string(result)}}).Increment();
  if (done > 0)
    f.records.Add({{"result", "done"}}).Increment(static_cast<double>(done));
  if (dead_lettered > 0) {
    f.records.Add({{"result", "dead_lettered"}}).Increment(static_cast<double>(dead_lettered));
  }
  if (rescheduled > 0) {
    f.records.Add({{"result", "rescheduled"}}).Increment(static_cast<double>(rescheduled));
  }
}

void refresh_outbox(pqxx::connection& conn) noexcept {
  try {
    pqxx::nontransaction tx(conn);
    // Served by the partial index crm_outbox_pending.
    auto row = tx.exec1(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8"
        " FROM crm_outbox WHERE done_at IS NULL");
    auto& f = get();
    f.pending.Set(row[0].as<double>());
    f.oldest.Set(row[1].as<double>());
  } catch (const std::exception& e) {
    log::debug("crm.metrics", "outbox backlog not read", {{"error", e.what()}});
  }
}

}  // namespace reelfarm::crm::crm_metrics
