#include "reelfarm/crm_sync/crm_sync_runner.hpp"

#include <pqxx/notification>

#include "reelfarm/common/log.hpp"
#include "reelfarm/crm_sync/crm_metrics.hpp"
#include "reelfarm/crm_sync/errc.hpp"
#include "reelfarm/crm_sync/outbox_drainer.hpp"
#include "reelfarm/store/postgres.hpp"

namespace reelfarm::crm {

namespace {

constexpr std::string_view component = "crm.sync";

/// Counts NOTIFYs on `crm_outbox`; the payload carries nothing.
class wake_receiver final : public pqxx::notification_receiver {
 public:
  explicit wake_receiver(pqxx::connection_base& conn) : notification_receiver(conn, "crm_outbox") {}
  void operator()(const std::string&, int) override { ++wakes; }
  int wakes = 0;
};

}  // namespace

crm_sync_runner::crm_sync_runner(std::string postgres_dsn, crm_options options)
    : dsn_(std::move(postgres_dsn)), options_(std::move(options)) {}

crm_sync_runner::~crm_sync_runner() {
  stop();
}

result<void> crm_sync_runner::start() {
  if (thread_.joinable()) {
    return ok();
  }
  // Fail early (and visibly) when the database is unreachable.
  auto probe = connect_postgres(dsn_);
  if (!probe) {
    return std::move(probe).error();
  }
  stop_ = false;
  {
    std::lock_guard lock(mutex_);
    status_.running = true;
  }
  thread_ = std::thread([this] { run(); });
  return ok();
}

void crm_sync_runner::stop() {
  stop_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
  std::lock_guard lock(mutex_);
  status_.running = false;
}

crm_sync_status crm_sync_runner::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void crm_sync_runner::pause(std::chrono::milliseconds how_long) {
  const auto until = std::chrono::steady_clock::now() + how_long;
  while (!stop_ && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(50), std::chrono::duration_cast<std::chrono::milliseconds>(
                                           until - std::chrono::steady_clock::now())));
  }
}

void crm_sync_runner::record(const drain_report& report) {
  std::lock_guard lock(mutex_);
  ++status_.passes;
  status_.records_done += report.records_done;
  status_.dead_lettered += report.dead_lettered;
  status_.rescheduled += report.rescheduled;
  status_.api_calls += report.calls;
  if (report.stopped_by) {
    ++status_.failures;
    status_.last_error = report.stopped_by->full_text();
  } else if (report.records_sent > 0) {
    status_.last_success = std::chrono::system_clock::now();
  }
}

void crm_sync_runner::run() {
  crm_metrics::declare();
  salesforce_client client(options_);
  backoff_policy backoff(options_.backoff_base, options_.backoff_cap);
  int failures_in_a_row = 0;
  while (!stop_) {
    auto work = connect_postgres(dsn_);
    auto listen = connect_postgres(dsn_);
    if (!work || !listen) {
      log::warn(component, "cannot reach PostgreSQL; retrying",
                {{"error", (!work ? work.error() : listen.error()).full_text()}});
      pause(backoff.delay(failures_in_a_row++));
      continue;
    }
    try {
      wake_receiver wake(**listen);
      outbox_drainer drainer(**work, client, options_);
      while (!stop_) {
        const auto pass_started = std::chrono::steady_clock::now();
        auto report = drainer.drain_once();
        if (!report) {
          throw std::runtime_error(report.error().full_text());
        }
        record(*report);
        crm_metrics::pass(
            report->stopped_by ? "stopped" : "ok", static_cast<long>(report->records_done),
            static_cast<long>(report->dead_lettered), static_cast<long>(report->rescheduled));
        crm_metrics::refresh_outbox(**work);
        {
          std::lock_guard lock(mutex_);
          status_.api_limit = client.limit_info();
        }
        if (report->stopped_by) {
          const bool limited = report->stopped_by->is(crm_errc::limit_exceeded);
          log::warn(component, "pass stopped", {{"error", report->stopped_by->full_text()}});
          pause(limited ? options_.limit_pause : backoff.delay(failures_in_a_row++));
          continue;
        }
        failures_in_a_row = 0;
        if (auto info = client.limit_info(); info && info->ratio() >= options_.limit_threshold) {
          // Near the org's daily allowance: leave room for people's own calls.
          log::warn(component, "near the Salesforce API limit; slowing down",
                    {{"used", info->used}, {"max", info->max}});
          pause(options_.limit_pause);
        }
        if (report->claimed_rows > 0) {
          // More may be waiting: go on after the send interval, sooner when
          // this pass could not take everything (a backlog drains at full speed).
          if (report->claimed_rows < options_.claim_limit) {
            pause(options_.send_interval - std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::steady_clock::now() - pass_started));
          }
          continue;
        }
        // Sleep until NOTIFY or the polling interval, in short slices so stop() is quick.
        const auto until = std::chrono::steady_clock::now() + options_.poll_interval;
        wake.wakes = 0;
        (*listen)->get_notifs();
        while (!stop_ && wake.wakes == 0 && std::chrono::steady_clock::now() < until) {
          (*listen)->await_notification(0, 100000);
        }
      }
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(mutex_);
        ++status_.failures;
        status_.last_error = e.what();
      }
      crm_metrics::pass("failed", 0, 0, 0);
      log::warn(component, "sync loop failed; reconnecting", {{"error", e.what()}});
      pause(backoff.delay(failures_in_a_row++));
    }
  }
}

}  // namespace reelfarm::crm
