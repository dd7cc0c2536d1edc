#pragma once

#include <string>
#include <vector>

#include "reelfarm/farm/coordinator/lease_manager.hpp"

namespace reelfarm::farm::testing {

/// A lease manager on a manual clock, with helpers to build nodes and shots
/// and to sort the events it produces.
struct farm_fixture {
  manual_clock clock;
  memory_epoch_allocator epochs;
  lease_manager manager{clock, epochs, lease_timing{}};
  std::vector<farm_event> events;

  static node_spec node(const std::string& id, int slots = 1, std::uint64_t gpu_mb = 0,
                        std::vector<std::string> tags = {}, std::string backend = "animatic") {
    node_spec n;
    n.id = id;
    n.hostname = id + ".local";
    n.slots = slots;
    if (gpu_mb > 0) {
      n.gpus.push_back({0, gpu_mb, 0});
    }
    n.backends = {std::move(backend)};
    n.tags = std::move(tags);
    return n;
  }

  static shot_request shot(const std::string& id, const std::string& user = "u1",
                           plan_priority prio = plan_priority::standard, std::uint64_t gpu_mb = 0,
                           std::string job = "job-1") {
    shot_request s;
    s.shot_id = id;
    s.job_id = std::move(job);
    s.user_id = user;
    s.priority = prio;
    s.backend = "animatic";
    s.gpu_memory_mb = gpu_mb;
    return s;
  }

  void add_node(const node_spec& n) { REQUIRE(manager.register_node(n, {})); }
  void submit(shot_request s) { REQUIRE(manager.submit(std::move(s))); }

  /// Runs timing rules and scheduling, then collects the new events.
  void step() {
    manager.tick();
    manager.schedule();
    auto fresh = manager.take_events();
    events.insert(events.end(), fresh.begin(), fresh.end());
  }

  template <class E>
  std::vector<E> take() {
    std::vector<E> out;
    std::vector<farm_event> rest;
    for (auto& e : events) {
      if (auto* p = std::get_if<E>(&e)) {
        out.push_back(*p);
      } else {
        rest.push_back(std::move(e));
      }
    }
    events.swap(rest);
    return out;
  }

  /// Accepts every pending offer as its node would.
  std::vector<offer_event> accept_all() {
    auto offers = take<offer_event>();
    for (const auto& o : offers) {
      REQUIRE(manager.accept(o.node_id, {o.offer.lease, o.offer.shot}));
    }
    return offers;
  }

  done_msg done(const offer_event& o) {
    return done_msg{o.offer.lease, o.offer.shot, "/a/" + o.offer.shot + ".mp4",
                    "sha256:" + std::string(64, 'c'), 1000};
  }

  /// Heartbeats every listed node with the leases it holds.
  void heartbeat(const std::string& node_id, std::vector<held_lease> held = {}) {
    REQUIRE(manager.heartbeat(node_id, held));
  }
};

}  // namespace reelfarm::farm::testing
