#include "src/coordinator/coordinator_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <unordered_set>

#include "reelfarm/common/metrics.hpp"
#include "src/coordinator/lease_manager_state.hpp"

namespace reelfarm::farm {

lease_manager::load_view lease_manager::load() const {
  load_view v;
  std::unordered_set<std::string_view> jobs;
  for (const auto& [id, shot] : impl_->shots) {
    if (shot.state == shot_state::queued) {
      ++v.queued[shot.request.priority == plan_priority::priority ? 1 : 0];
    } else {
      ++v.leased;
    }
    jobs.insert(shot.request.job_id);
  }
  v.active_jobs = jobs.size();
  return v;
}

namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Every family once per process; the coordinator may be created more than
// once (tests), and all instances then add to the same series.
struct families {
  Counter& granted;
  Family<Counter>& ended;
  Counter& stale;
  Counter& nodes_lost;
  Counter& blocklists;
  Counter& protocol_errors;
  Family<Counter>& finished;
  Family<Gauge>& shots;
  Family<Gauge>& queue;
  Gauge& jobs_active;
  Family<Gauge>& nodes;
  Family<Gauge>& slots;
  Family<Gauge>& node_slots;
  Family<Gauge>& heartbeat_age;
  Family<Gauge>& node_failures;
  Family<Gauge>& node_up;
  Histogram& time_to_book;
  Histogram& render;
};

families& get() {
  auto& r = metrics::registry();
  auto counter = [&](const char* name, const char* help) -> Family<Counter>& {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r);
  };
  auto gauge = [&](const char* name, const char* help) -> Family<Gauge>& {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r);
  };
  static families f{
      counter("reelfarm_farm_leases_granted_total",
              "Leases offered to nodes (each with a new epoch)")
          .Add({}),
      counter("reelfarm_farm_leases_ended_total", "Leases that ended, by how they ended"),
      counter("reelfarm_farm_stale_results_total",
              "Late results carrying an old epoch, refused (a node was cut off past its TTL)")
          .Add({}),
      counter("reelfarm_farm_nodes_lost_total", "Nodes declared lost after a silence of the TTL")
          .Add({}),
      counter("reelfarm_farm_blocklists_total",
              "(job, node) pairs blocklisted after repeated failures")
          .Add({}),
      counter("reelfarm_farm_protocol_errors_total", "Frames refused as malformed or out of order")
          .Add({}),
      counter("reelfarm_farm_shots_finished_total", "Shots with a final outcome, by status"),
      gauge("reelfarm_farm_shots", "Unfinished shots in the coordinator, by state"),
      gauge("reelfarm_farm_queue_depth", "Shots waiting for a node, by plan priority tier"),
      gauge("reelfarm_farm_jobs_active", "Jobs with at least one unfinished shot").Add({}),
      gauge("reelfarm_farm_nodes", "Known render nodes, by state"),
      gauge("reelfarm_farm_slots", "Render slots of the nodes that are not lost, used or free"),
      gauge("reelfarm_farm_node_slots", "Render slots of one node, used or free"),
      gauge("reelfarm_farm_node_heartbeat_age_seconds",
            "Seconds since the coordinator last heard from the node"),
      gauge("reelfarm_farm_node_failures", "Failed leases on the node since it joined"),
      gauge("reelfarm_farm_node_up", "1 while the node is heard from, 0 once it is lost"),
      prometheus::BuildHistogram()
          .Name("reelfarm_farm_time_to_book_seconds")
          .Help("From a shot's submission to its first lease offer")
          .Register(r)
          .Add({}, metrics::duration_buckets()),
      prometheus::BuildHistogram()
          .Name("reelfarm_farm_shot_render_seconds")
          .Help("Render time of finished shots, as their node reports it")
          .Register(r)
          .Add({}, metrics::duration_buckets()),
  };
  return f;
}

constexpr const char* node_states[] = {"alive", "draining", "drained", "lost"};
constexpr const char* end_states[] = {"done", "failed", "expired", "rejected", "cancelled"};
constexpr const char* shot_statuses[] = {"done", "failed", "cancelled"};

const char* status_name(shot_status s) {
  switch (s) {
    case shot_status::done:
      return "done";
    case shot_status::failed:
      return "failed";
    case shot_status::cancelled:
      return "cancelled";
  }
  return "failed";
}

void add_delta(Counter& c, std::uint64_t now, std::uint64_t before) {
  if (now > before) {
    c.Increment(static_cast<double>(now - before));
  }
}

}  // namespace

coordinator_metrics::coordinator_metrics() {
  // Known label values exist from the start (at 0), so rate() and the
  // dashboards see a series before the first event of its kind.
  auto& f = get();
  for (const auto* s : end_states)
    f.ended.Add({{"state", s}});
  for (const auto* s : shot_statuses)
    f.finished.Add({{"status", s}});
  for (const auto* s : node_states)
    f.nodes.Add({{"state", s}});
  f.shots.Add({{"state", "queued"}});
  f.shots.Add({{"state", "leased"}});
  f.queue.Add({{"priority", "standard"}});
  f.queue.Add({{"priority", "priority"}});
  f.slots.Add({{"state", "used"}});
  f.slots.Add({{"state", "free"}});
}

void coordinator_metrics::shot_queued(const std::string& shot_id,
                                      std::chrono::steady_clock::time_point at) {
  waiting_.emplace(shot_id, at);
}

void coordinator_metrics::on_event(const farm_event& e) {
  auto& f = get();
  if (const auto* o = std::get_if<offer_event>(&e)) {
    // Only the first offer counts: a re-queued shot was booked already.
    if (auto it = waiting_.find(o->offer.shot); it != waiting_.end()) {
      f.time_to_book.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second).count());
      waiting_.erase(it);
    }
  } else if (const auto* s = std::get_if<shot_outcome>(&e)) {
    waiting_.erase(s->shot_id);  // cancelled or failed before any offer
    f.finished.Add({{"status", status_name(s->status)}}).Increment();
    if (s->status == shot_status::done && s->duration_ms > 0) {
      f.render.Observe(static_cast<double>(s->duration_ms) / 1000.0);
    }
  }
}

void coordinator_metrics::copy_counters(const farm_probe& p) {
  auto& f = get();
  add_delta(f.granted, p.leases_granted, last_.leases_granted);
  add_delta(f.ended.Add({{"state", "done"}}), p.leases_done, last_.leases_done);
  add_delta(f.ended.Add({{"state", "failed"}}), p.leases_failed, last_.leases_failed);
  add_delta(f.ended.Add({{"state", "expired"}}), p.leases_expired, last_.leases_expired);
  add_delta(f.ended.Add({{"state", "rejected"}}), p.leases_rejected, last_.leases_rejected);
  add_delta(f.ended.Add({{"state", "cancelled"}}), p.leases_cancelled, last_.leases_cancelled);
  add_delta(f.stale, p.stale_results, last_.stale_results);
  add_delta(f.nodes_lost, p.nodes_lost, last_.nodes_lost);
  add_delta(f.blocklists, p.blocklisted, last_.blocklisted);
  add_delta(f.protocol_errors, p.protocol_errors, last_.protocol_errors);
  last_ = p;
}

void coordinator_metrics::refresh(const lease_manager& m, std::chrono::milliseconds interval) {
  auto now = std::chrono::steady_clock::now();
  if (now - last_refresh_ < interval) {
    return;
  }
  last_refresh_ = now;
  auto& f = get();
  copy_counters(m.probe());

  auto load = m.load();
  f.queue.Add({{"priority", "standard"}}).Set(static_cast<double>(load.queued[0]));
  f.queue.Add({{"priority", "priority"}}).Set(static_cast<double>(load.queued[1]));
  f.shots.Add({{"state", "queued"}}).Set(static_cast<double>(load.queued[0] + load.queued[1]));
  f.shots.Add({{"state", "leased"}}).Set(static_cast<double>(load.leased));
  f.jobs_active.Set(static_cast<double>(load.active_jobs));

  std::unordered_map<std::string, int> by_state;
  int used = 0;
  int free = 0;
  std::unordered_set<std::string> present;
  for (const auto& n : m.nodes()) {
    ++by_state[n.state];
    const bool lost = n.state == "lost";
    const int node_free = std::max(0, n.slots - n.used);
    if (!lost) {
      used += n.used;
      free += node_free;
    }
    f.node_slots.Add({{"node", n.id}, {"state", "used"}}).Set(n.used);
    f.node_slots.Add({{"node", n.id}, {"state", "free"}}).Set(lost ? 0 : node_free);
    f.heartbeat_age.Add({{"node", n.id}})
        .Set(static_cast<double>(n.last_heartbeat_ms_ago) / 1000.0);
    f.node_failures.Add({{"node", n.id}}).Set(n.failures);
    f.node_up.Add({{"node", n.id}}).Set(lost ? 0 : 1);
    present.insert(n.id);
  }
  for (const auto* s : node_states) {
    f.nodes.Add({{"state", s}}).Set(by_state[s]);
  }
  f.slots.Add({{"state", "used"}}).Set(used);
  f.slots.Add({{"state", "free"}}).Set(free);
  // A removed node's series go with it, so a farm that replaces machines
  // does not export dead node ids for ever.
  for (const auto& id : nodes_seen_) {
    if (present.contains(id)) {
      continue;
    }
    f.node_slots.Remove(&f.node_slots.Add({{"node", id}, {"state", "used"}}));
    f.node_slots.Remove(&f.node_slots.Add({{"node", id}, {"state", "free"}}));
    f.heartbeat_age.Remove(&f.heartbeat_age.Add({{"node", id}}));
    f.node_failures.Remove(&f.node_failures.Add({{"node", id}}));
    f.node_up.Remove(&f.node_up.Add({{"node", id}}));
  }
  nodes_seen_ = std::move(present);
}

}  // namespace reelfarm::farm
