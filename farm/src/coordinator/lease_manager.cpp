#include "reelfarm/farm/coordinator/lease_manager.hpp"

#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/errc.hpp"
#include "src/coordinator/lease_manager_state.hpp"

namespace reelfarm::farm {
namespace {

constexpr std::uint64_t epoch_block = 1024;

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::uint64_t max_gpu_memory(const node_spec& spec) {
  std::uint64_t m = 0;
  for (const auto& g : spec.gpus) {
    m = std::max(m, g.memory_mb);
  }
  return m;
}

/// Refusals of an offer that say nothing about the shot, only about the
/// node's state at that instant (docs/protocol.md lists the reasons).
bool transient_rejection(const std::string& reason) {
  return reason == "no free slot" || reason == "node is draining" || reason == "lease already held";
}

/// Passing refusals of one shot by one node before it is treated as a refusal
/// for good: a node that keeps saying "no free slot" has fewer slots than it
/// registered, and must not be offered the shot for ever.
constexpr int transient_reject_limit = 3;

error no_node(std::string_view id) {
  return error(farm_errc::unknown_node,
               "node " + std::string(id) + " is not registered; send register first");
}

}  // namespace

lease_manager::lease_manager(const farm_clock& clock, epoch_allocator& epochs, lease_timing timing)
    : impl_(std::make_unique<impl>()), clock_(clock), epochs_(epochs), timing_(timing) {}

lease_manager::~lease_manager() = default;

// --- capacity index -------------------------------------------------------

namespace {

void set_indexed(lease_manager::impl& s, std::uint32_t idx) {
  auto& n = s.nodes[idx];
  bool want = n.can_take_work();
  if (want == n.indexed) {
    return;
  }
  for (const auto& b : n.spec.backends) {
    if (want) {
      s.capacity[b].insert({n.max_gpu_mb, idx});
    } else {
      s.capacity[b].erase({n.max_gpu_mb, idx});
    }
  }
  n.indexed = want;
}

// Slot bookkeeping goes through here so `free_slots` stays the sum of the
// free slots of indexed nodes.
void change_used(lease_manager::impl& s, std::uint32_t idx, int delta) {
  auto& n = s.nodes[idx];
  if (n.indexed) {
    s.free_slots -= n.free_slots();
  }
  n.used = std::max(0, n.used + delta);
  set_indexed(s, idx);
  if (n.indexed) {
    s.free_slots += n.free_slots();
  }
}

// The node's orphaned slots (node_entry::orphans), with the same bookkeeping.
void set_orphans(lease_manager::impl& s, std::uint32_t idx, int orphans) {
  auto& n = s.nodes[idx];
  if (n.orphans == orphans) {
    return;
  }
  if (n.indexed) {
    s.free_slots -= n.free_slots();
  }
  n.orphans = orphans;
  set_indexed(s, idx);
  if (n.indexed) {
    s.free_slots += n.free_slots();
  }
}

// Re-evaluates a node after a state flag changed (lost, draining, removed).
void refresh(lease_manager::impl& s, std::uint32_t idx) {
  change_used(s, idx, 0);
}

// Takes a node out of the index before its spec (backends, GPUs) changes.
void unindex(lease_manager::impl& s, std::uint32_t idx) {
  auto& n = s.nodes[idx];
  if (!n.indexed) {
    return;
  }
  s.free_slots -= n.free_slots();
  for (const auto& b : n.spec.backends) {
    s.capacity[b].erase({n.max_gpu_mb, idx});
  }
  n.indexed = false;
}

void add_reference(lease_manager::impl& s, std::uint32_t idx, const std::string& ref) {
  constexpr std::size_t max_refs_per_node = 4096;
  auto& n = s.nodes[idx];
  if (n.references.size() >= max_refs_per_node || !n.references.insert(ref).second) {
    return;
  }
  s.reference_holders[ref].push_back(idx);
}

}  // namespace

// --- epochs ----------------------------------------------------------------

namespace {

result<std::uint64_t> next_epoch(lease_manager::impl& s, epoch_allocator& epochs) {
  if (s.next_epoch == s.epoch_block_end) {
    auto first = epochs.reserve(epoch_block);
    if (!first) {
      return first.error();
    }
    s.next_epoch = *first;
    s.epoch_block_end = *first + epoch_block;
    if (s.first_epoch_seen == 0) {
      s.first_epoch_seen = *first;
    }
  }
  return s.next_epoch++;
}

}  // namespace

// --- shots and the queue ---------------------------------------------------

namespace {

void enqueue(lease_manager::impl& s, const shot_entry& shot, bool front) {
  auto& tier = s.tiers[static_cast<int>(shot.request.priority)];
  auto& dq = tier.shots_by_user[shot.request.user_id];
  if (dq.empty()) {
    tier.ring.push_back(shot.request.user_id);
  }
  if (front) {
    dq.push_front(shot.request.shot_id);
  } else {
    dq.push_back(shot.request.shot_id);
  }
  ++s.queued;
}

void finish_shot(lease_manager::impl& s, shot_outcome outcome) {
  s.shots.erase(outcome.shot_id);
  s.events.emplace_back(std::move(outcome));
}

shot_outcome outcome_of(const shot_entry& shot, shot_status status, std::string reason) {
  shot_outcome o;
  o.shot_id = shot.request.shot_id;
  o.job_id = shot.request.job_id;
  o.status = status;
  o.reason = std::move(reason);
  return o;
}

bool is_blocklisted(const std::unordered_map<std::uint32_t, int>& job_failures, std::uint32_t idx) {
  auto f = job_failures.find(idx);
  return f != job_failures.end() && f->second >= lease_manager::job_blocklist_after;
}

/// Whether a queued shot can still be served: `open` when some live,
/// undrained node that could take it (backend, GPU memory, tags, never
/// rejected it; busy or not) is not blocklisted for its job; `blocked` when
/// every such node is; `none` when there is no such node at all (nodes may
/// still join, so the shot waits).
enum class reach { none, blocked, open };

reach reachability(const lease_manager::impl& s, const shot_entry& shot,
                   const std::unordered_map<std::uint32_t, int>& job_failures) {
  const auto& r = shot.request;
  bool blocked = false;
  for (std::uint32_t idx = 0; idx < s.nodes.size(); ++idx) {
    const auto& n = s.nodes[idx];
    if (n.removed || n.lost || n.draining || n.max_gpu_mb < r.gpu_memory_mb ||
        std::find(n.spec.backends.begin(), n.spec.backends.end(), r.backend) ==
            n.spec.backends.end() ||
        !std::includes(n.sorted_tags.begin(), n.sorted_tags.end(), r.tags.begin(), r.tags.end()) ||
        contains(shot.rejected_nodes, idx)) {
      continue;
    }
    if (!is_blocklisted(job_failures, idx)) {
      return reach::open;
    }
    blocked = true;
  }
  return blocked ? reach::blocked : reach::none;
}

/// How many live-or-not, not removed nodes are blocklisted for a job.
int blocklisted_nodes(const lease_manager::impl& s,
                      const std::unordered_map<std::uint32_t, int>& job_failures) {
  int n = 0;
  for (const auto& [idx, count] : job_failures) {
    n += count >= lease_manager::job_blocklist_after && !s.nodes[idx].removed ? 1 : 0;
  }
  return n;
}

/// Fails the queued shots that no node may serve any more because every live,
/// undrained node that could take them is blocklisted for their job: waiting
/// would only end in the submitter's timeout. `job` empty: every job with a
/// blocklisted node; `only`: just that shot. Runs on the rare events that can
/// strand a shot (a blocklisting, a node lost, drained or removed, a submit)
/// and only looks at jobs with a blocklisted node, in one pass over the
/// shots, so it stays off the grant path.
void fail_stranded_shots(lease_manager::impl& s, farm_probe& probe, const std::string& job,
                         const std::string& last_failure, const std::string* only = nullptr) {
  std::unordered_map<std::string, int> jobs;  // job -> its blocklisted nodes
  auto consider = [&](const std::string& id, const std::unordered_map<std::uint32_t, int>& f) {
    if (int n = blocklisted_nodes(s, f); n > 0) {
      jobs.emplace(id, n);
    }
  };
  if (!job.empty()) {  // the common case (a submit, a failure): one lookup
    if (auto it = s.job_failures.find(job); it != s.job_failures.end()) {
      consider(it->first, it->second);
    }
  } else {
    for (const auto& [id, failures] : s.job_failures) {
      consider(id, failures);
    }
  }
  if (jobs.empty()) {
    return;
  }
  std::vector<std::string> stranded;
  auto check = [&](const shot_entry& shot) {
    if (shot.state != shot_state::queued || shot.cancel_requested ||
        !jobs.contains(shot.request.job_id)) {
      return;
    }
    if (reachability(s, shot, s.job_failures.at(shot.request.job_id)) == reach::blocked) {
      stranded.push_back(shot.request.shot_id);
    }
  };
  if (only != nullptr) {
    if (auto it = s.shots.find(*only); it != s.shots.end()) {
      check(it->second);
    }
  } else {
    for (const auto& [id, shot] : s.shots) {
      check(shot);
    }
  }
  std::sort(stranded.begin(), stranded.end());  // deterministic event order
  for (const auto& id : stranded) {
    auto& shot = s.shots.at(id);
    const auto& shot_job = shot.request.job_id;
    int blocklisted = jobs.at(shot_job);
    --s.queued;  // its queue entry is dropped lazily by serve_user
    ++probe.shots_failed;
    log::warn("farm", "shot failed: every node that could take it is blocklisted for its job",
              {{"shot", id}, {"job", shot_job}, {"blocklisted_nodes", blocklisted}});
    finish_shot(s, outcome_of(shot, shot_status::failed,
                              "every node that could render it (" + std::to_string(blocklisted) +
                                  " blocklisted) failed job " + shot_job + " " +
                                  std::to_string(lease_manager::job_blocklist_after) +
                                  " times or more; last failure: " + last_failure));
  }
}

}  // namespace

result<void> lease_manager::submit(shot_request shot) {
  if (shot.shot_id.empty() || shot.shot_id.size() > 128 || shot.backend.empty()) {
    return error(farm_errc::invalid_argument, "a shot needs an id (<= 128 bytes) and a backend");
  }
  if (impl_->shots.contains(shot.shot_id)) {
    return error(farm_errc::duplicate_shot,
                 "shot " + shot.shot_id + " is already queued or running");
  }
  std::sort(shot.tags.begin(), shot.tags.end());
  shot_entry entry;
  entry.request = std::move(shot);
  auto [it, inserted] = impl_->shots.emplace(entry.request.shot_id, std::move(entry));
  enqueue(*impl_, it->second, false);
  // A shot of a job that has worn out every node it could run on fails now.
  auto id = it->first;
  fail_stranded_shots(*impl_, probe_, it->second.request.job_id,
                      "earlier shots of the job failed on them", &id);
  return ok();
}

// --- leases ending ---------------------------------------------------------

namespace {

// Ends a lease: frees the slot, forgets it, records why.
void end_lease(lease_manager::impl& s, std::uint64_t epoch, const std::string& state,
               const std::string& reason) {
  auto it = s.leases.find(epoch);
  if (it == s.leases.end()) {
    return;
  }
  auto node_idx = it->second.node;
  auto& n = s.nodes[node_idx];
  n.leases.erase(epoch);
  change_used(s, node_idx, -1);
  s.cancelling.erase(epoch);
  s.events.emplace_back(lease_ended_event{epoch, it->second.shot_id, n.spec.id, state, reason});
  s.leases.erase(it);
}

// The shot of a lease that ended without a result: cancelled, failed for
// good, or back to the front of its user's queue.
void requeue_or_finish(lease_manager::impl& s, farm_probe& probe, const std::string& shot_id,
                       const std::string& why, bool count_attempt = true) {
  auto it = s.shots.find(shot_id);
  if (it == s.shots.end()) {
    return;
  }
  auto& shot = it->second;
  shot.lease = 0;
  if (shot.cancel_requested) {
    finish_shot(s, outcome_of(shot, shot_status::cancelled, "cancelled"));
    return;
  }
  shot.attempts += count_attempt ? 1 : 0;
  if (static_cast<int>(shot.failed_nodes.size()) >= lease_manager::shot_fails_after_nodes ||
      shot.attempts >= lease_manager::shot_max_attempts) {
    ++probe.shots_failed;
    finish_shot(s, outcome_of(shot, shot_status::failed,
                              "gave up after " + std::to_string(shot.attempts) + " attempts on " +
                                  std::to_string(shot.failed_nodes.size()) +
                                  " failing nodes; last: " + why));
    return;
  }
  shot.state = shot_state::queued;
  enqueue(s, shot, true);
}

void expire_lease(lease_manager::impl& s, farm_probe& probe, std::uint64_t epoch,
                  const std::string& why) {
  auto it = s.leases.find(epoch);
  if (it == s.leases.end()) {
    return;
  }
  auto shot_id = it->second.shot_id;
  ++probe.leases_expired;
  end_lease(s, epoch, "expired", why);
  requeue_or_finish(s, probe, shot_id, why);
}

}  // namespace

// --- nodes -----------------------------------------------------------------

namespace {

void watch_node(lease_manager::impl& s, std::uint32_t idx, std::chrono::milliseconds ttl) {
  auto& n = s.nodes[idx];
  if (!n.in_heap) {
    s.node_deadlines.push({n.last_seen + ttl, idx});
    n.in_heap = true;
  }
}

void renew_leases(lease_manager::impl& s, std::uint32_t idx, const std::vector<held_lease>& held,
                  time_point until) {
  const auto& id = s.nodes[idx].spec.id;
  int orphans = 0;
  for (const auto& h : held) {
    auto it = s.leases.find(h.lease);
    if (it != s.leases.end() && it->second.node == idx) {
      it->second.expires = std::max(it->second.expires, until);
      continue;
    }
    // The node runs something it no longer owns (it was lost, or we restarted).
    s.events.emplace_back(cancel_event{id, cancel_msg{h.lease, h.shot}});
    ++orphans;
  }
  set_orphans(s, idx, orphans);
}

std::uint32_t add_node(lease_manager::impl& s, const node_spec& spec) {
  auto idx = static_cast<std::uint32_t>(s.nodes.size());
  s.nodes.emplace_back();
  s.nodes.back().spec = spec;
  s.node_ids[spec.id] = idx;
  return idx;
}

}  // namespace

result<void> lease_manager::register_node(const node_spec& spec,
                                          const std::vector<held_lease>& held) {
  if (spec.id.empty() || spec.slots < 1 || spec.backends.empty()) {
    return error(farm_errc::invalid_argument,
                 "a node needs an id, at least one slot and at least one backend");
  }
  auto& s = *impl_;
  auto found = s.node_ids.find(spec.id);
  std::uint32_t idx = found == s.node_ids.end() ? add_node(s, spec) : found->second;
  auto& n = s.nodes[idx];
  unindex(s, idx);
  n.spec = spec;
  n.max_gpu_mb = max_gpu_memory(spec);
  n.sorted_tags = spec.tags;
  std::sort(n.sorted_tags.begin(), n.sorted_tags.end());
  n.lost = false;
  // An operator's drain lasts across agent restarts; a node's own drain at
  // shutdown ends when it comes back.
  if (n.draining && n.drained_itself) {
    n.draining = false;
    n.drained_itself = false;
    s.events.emplace_back(drain_event{spec.id, false});
  }
  n.last_seen = clock_.now();
  for (const auto& ref : spec.references) {
    add_reference(s, idx, ref);
  }
  // Leases we think it runs but it does not list died with its last session.
  std::vector<std::uint64_t> gone;
  for (auto epoch : n.leases) {
    bool listed = std::any_of(held.begin(), held.end(),
                              [&](const held_lease& h) { return h.lease == epoch; });
    if (!listed) {
      gone.push_back(epoch);
    }
  }
  for (auto epoch : gone) {
    expire_lease(s, probe_, epoch, "node " + spec.id + " re-registered without it");
  }
  renew_leases(s, idx, held, n.last_seen + timing_.ttl);
  refresh(s, idx);
  watch_node(s, idx, timing_.ttl);
  s.events.emplace_back(node_changed_event{spec.id});
  return ok();
}

result<void> lease_manager::heartbeat(std::string_view node_id,
                                      const std::vector<held_lease>& held) {
  auto& s = *impl_;
  auto found = s.node_ids.find(std::string(node_id));
  if (found == s.node_ids.end()) {
    return no_node(node_id);
  }
  auto idx = found->second;
  auto& n = s.nodes[idx];
  n.last_seen = clock_.now();
  if (n.lost) {
    n.lost = false;
    log::info("farm", "node is back", {{"node", n.spec.id}});
    s.events.emplace_back(node_changed_event{n.spec.id});
    refresh(s, idx);
  }
  watch_node(s, idx, timing_.ttl);
  renew_leases(s, idx, held, n.last_seen + timing_.ttl);
  return ok();
}

result<void> lease_manager::drain(std::string_view node_id, bool drain, drained_by who) {
  auto& s = *impl_;
  auto found = s.node_ids.find(std::string(node_id));
  if (found == s.node_ids.end()) {
    return no_node(node_id);
  }
  auto& n = s.nodes[found->second];
  // A node draining itself never turns an operator's drain into its own.
  if (!drain || !n.draining) {
    n.drained_itself = drain && who == drained_by::node_itself;
  }
  if (n.draining != drain) {
    n.draining = drain;
    refresh(s, found->second);
    s.events.emplace_back(drain_event{n.spec.id, drain});
    s.events.emplace_back(node_changed_event{n.spec.id});
    if (drain) {
      fail_stranded_shots(s, probe_, "", "the last other node was drained");
    }
  }
  return ok();
}

result<void> lease_manager::remove_node(std::string_view node_id) {
  auto& s = *impl_;
  auto found = s.node_ids.find(std::string(node_id));
  if (found == s.node_ids.end()) {
    return no_node(node_id);
  }
  auto idx = found->second;
  std::vector<std::uint64_t> held(s.nodes[idx].leases.begin(), s.nodes[idx].leases.end());
  for (auto epoch : held) {
    expire_lease(s, probe_, epoch, "node removed by an operator");
  }
  s.nodes[idx].removed = true;
  refresh(s, idx);
  s.node_ids.erase(found);
  s.events.emplace_back(node_changed_event{std::string(node_id)});
  fail_stranded_shots(s, probe_, "", "the last other node was removed");
  return ok();
}

// --- timing rules ------------------------------------------------------------

namespace {

void lose_node(lease_manager::impl& s, farm_probe& probe, std::uint32_t idx, time_point now) {
  auto& n = s.nodes[idx];
  n.lost = true;
  refresh(s, idx);
  ++probe.nodes_lost;
  auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(now - n.last_seen);
  log::warn("farm", "node lost", {{"node", n.spec.id}, {"silent_ms", silent.count()}});
  s.events.emplace_back(node_lost_event{n.spec.id, silent});
  s.events.emplace_back(node_changed_event{n.spec.id});
  std::vector<std::uint64_t> held(n.leases.begin(), n.leases.end());
  std::sort(held.begin(), held.end());
  for (auto epoch : held) {
    expire_lease(s, probe, epoch, "node " + n.spec.id + " lost (no heartbeat within the TTL)");
  }
  fail_stranded_shots(s, probe, "", "the last other node was lost");
}

void check_nodes(lease_manager::impl& s, farm_probe& probe, time_point now,
                 std::chrono::milliseconds ttl) {
  while (!s.node_deadlines.empty() && s.node_deadlines.top().first <= now) {
    auto idx = s.node_deadlines.top().second;
    s.node_deadlines.pop();
    auto& n = s.nodes[idx];
    n.in_heap = false;
    if (n.removed || n.lost) {
      continue;
    }
    if (n.last_seen + ttl > now) {  // heard from since: watch the new deadline
      watch_node(s, idx, ttl);
      continue;
    }
    lose_node(s, probe, idx, now);
  }
}

void check_leases(lease_manager::impl& s, farm_probe& probe, time_point now) {
  while (!s.lease_deadlines.empty() && s.lease_deadlines.top().first <= now) {
    auto epoch = s.lease_deadlines.top().second;
    s.lease_deadlines.pop();
    auto it = s.leases.find(epoch);
    if (it == s.leases.end()) {
      continue;
    }
    if (it->second.expires > now) {
      s.lease_deadlines.push({it->second.expires, epoch});
      continue;
    }
    auto node_id = s.nodes[it->second.node].spec.id;
    s.events.emplace_back(cancel_event{node_id, cancel_msg{epoch, it->second.shot_id}});
    expire_lease(s, probe, epoch, "lease not renewed within the TTL");
  }
}

void resend_cancels(lease_manager::impl& s, time_point now, std::chrono::milliseconds every) {
  for (auto epoch : s.cancelling) {
    auto& l = s.leases.at(epoch);
    if (now - l.last_cancel_sent >= every) {
      l.last_cancel_sent = now;
      s.events.emplace_back(cancel_event{s.nodes[l.node].spec.id, cancel_msg{epoch, l.shot_id}});
    }
  }
}

}  // namespace

void lease_manager::tick() {
  auto now = clock_.now();
  check_nodes(*impl_, probe_, now, timing_.ttl);
  check_leases(*impl_, probe_, now);
  resend_cancels(*impl_, now, timing_.cancel_resend);
}

std::vector<farm_event> lease_manager::take_events() {
  std::vector<farm_event> out;
  out.swap(impl_->events);
  return out;
}

// --- views -------------------------------------------------------------------

namespace {

node_view view_of(const node_entry& n, time_point now) {
  node_view v;
  v.id = n.spec.id;
  v.hostname = n.spec.hostname;
  v.state = n.lost ? "lost" : n.draining ? (n.used > 0 ? "draining" : "drained") : "alive";
  v.slots = n.spec.slots;
  v.used = n.used;
  v.gpus = n.spec.gpus;
  v.backends = n.spec.backends;
  v.tags = n.spec.tags;
  v.leases.assign(n.leases.begin(), n.leases.end());
  std::sort(v.leases.begin(), v.leases.end());
  v.last_heartbeat_ms_ago =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - n.last_seen).count();
  v.failures = n.failures;
  return v;
}

}  // namespace

std::vector<node_view> lease_manager::nodes() const {
  std::vector<node_view> out;
  for (const auto& n : impl_->nodes) {
    if (!n.removed) {
      out.push_back(view_of(n, clock_.now()));
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

std::optional<node_view> lease_manager::node(std::string_view node_id) const {
  auto found = impl_->node_ids.find(std::string(node_id));
  if (found == impl_->node_ids.end()) {
    return std::nullopt;
  }
  return view_of(impl_->nodes[found->second], clock_.now());
}

std::size_t lease_manager::queued_shots() const noexcept {
  return impl_->queued;
}

std::size_t lease_manager::active_leases() const noexcept {
  return impl_->leases.size();
}

// --- frames about leases -----------------------------------------------------

namespace {

// The lease `epoch` as held by `node_id` for `shot`, or why not: results
// for an epoch that is no longer current are stale (fencing).
result<lease_entry*> held_by(lease_manager::impl& s, farm_probe& probe, std::string_view node_id,
                             std::uint64_t epoch, const std::string& shot) {
  auto found = s.node_ids.find(std::string(node_id));
  if (found == s.node_ids.end()) {
    return no_node(node_id);
  }
  auto it = s.leases.find(epoch);
  // Every epoch below our next one was issued (by us or a predecessor).
  bool issued = s.next_epoch == 0 || epoch < s.next_epoch;
  if (it == s.leases.end() && issued) {
    ++probe.stale_results;
    return error(farm_errc::stale_epoch, "lease " + std::to_string(epoch) + " for shot " + shot +
                                             " is no longer current (fencing epoch superseded); "
                                             "its result is discarded");
  }
  if (it == s.leases.end() || it->second.node != found->second || it->second.shot_id != shot) {
    return error(farm_errc::unknown_lease, "node " + std::string(node_id) + " holds no lease " +
                                               std::to_string(epoch) + " for shot " + shot);
  }
  return &it->second;
}

error out_of_order(const char* what, std::uint64_t epoch, const char* state) {
  return error(farm_errc::out_of_order,
               std::string(what) + " for lease " + std::to_string(epoch) + " which is " + state);
}

const char* state_name(lease_state st) {
  switch (st) {
    case lease_state::offered:
      return "offered but not accepted";
    case lease_state::running:
      return "running";
    case lease_state::cancelling:
      return "being cancelled";
  }
  return "unknown";
}

}  // namespace

result<void> lease_manager::accept(std::string_view node_id, const lease_accept_msg& m) {
  auto lease = held_by(*impl_, probe_, node_id, m.lease, m.shot);
  if (!lease) {
    return lease.error();
  }
  auto* l = *lease;
  if (l->state == lease_state::offered) {
    l->state = lease_state::running;
  }
  l->expires = std::max(l->expires, clock_.now() + timing_.ttl);
  return ok();
}

result<void> lease_manager::reject(std::string_view node_id, const lease_reject_msg& m) {
  auto lease = held_by(*impl_, probe_, node_id, m.lease, m.shot);
  if (!lease) {
    return lease.error();
  }
  if ((*lease)->state != lease_state::offered && (*lease)->state != lease_state::cancelling) {
    return out_of_order("lease_reject", m.lease, state_name((*lease)->state));
  }
  auto& s = *impl_;
  auto node_idx = (*lease)->node;
  ++probe_.leases_rejected;
  end_lease(s, m.lease, "rejected", m.reason);
  if (auto it = s.shots.find(m.shot); it != s.shots.end()) {
    auto& shot = it->second;
    // A node that cannot take the shot (no such backend) never gets it again.
    // One that was merely busy (it had reported a result but not yet freed
    // the slot) may: excluding it would strand the shot for good when it is
    // the only node. Repeated passing refusals exclude it too.
    bool exclude = true;
    if (transient_rejection(m.reason)) {
      shot.transient_rejections.push_back(node_idx);
      exclude = std::count(shot.transient_rejections.begin(), shot.transient_rejections.end(),
                           node_idx) >= transient_reject_limit;
    }
    if (exclude) {
      shot.rejected_nodes.push_back(node_idx);
    }
  }
  requeue_or_finish(s, probe_, m.shot, "rejected: " + m.reason, false);
  return ok();
}

result<void> lease_manager::progress(std::string_view node_id, const progress_msg& m) {
  auto lease = held_by(*impl_, probe_, node_id, m.lease, m.shot);
  if (!lease) {
    return lease.error();
  }
  if ((*lease)->state == lease_state::offered) {
    return out_of_order("progress", m.lease, state_name((*lease)->state));
  }
  (*lease)->expires = std::max((*lease)->expires, clock_.now() + timing_.ttl);
  return ok();
}

result<void> lease_manager::complete(std::string_view node_id, const done_msg& m) {
  auto lease = held_by(*impl_, probe_, node_id, m.lease, m.shot);
  if (!lease) {
    return lease.error();
  }
  auto* l = *lease;
  if (l->state == lease_state::offered) {
    return out_of_order("done", m.lease, state_name(l->state));
  }
  auto& s = *impl_;
  auto& shot = s.shots.at(m.shot);
  auto node_idx = l->node;
  if (l->state == lease_state::cancelling) {
    ++probe_.leases_cancelled;
    end_lease(s, m.lease, "cancelled", "finished while being cancelled");
    finish_shot(s, outcome_of(shot, shot_status::cancelled, "cancelled"));
    return ok();
  }
  ++probe_.leases_done;
  for (const auto& ref : shot.request.references) {
    add_reference(s, node_idx, ref);
  }
  auto outcome = outcome_of(shot, shot_status::done, "");
  outcome.lease = m.lease;
  outcome.node_id = std::string(node_id);
  outcome.artifact = m.artifact;
  outcome.checksum = m.checksum;
  outcome.duration_ms = m.duration_ms;
  end_lease(s, m.lease, "done", "");
  finish_shot(s, std::move(outcome));
  return ok();
}

namespace {

void count_job_failure(lease_manager::impl& s, farm_probe& probe, const std::string& job,
                       std::uint32_t node_idx) {
  auto& n = s.nodes[node_idx];
  ++n.failures;
  if (++s.job_failures[job][node_idx] == lease_manager::job_blocklist_after) {
    ++probe.blocklisted;
    log::warn("farm", "node blocklisted for job", {{"node", n.spec.id}, {"job", job}});
  }
}

}  // namespace

result<void> lease_manager::count_refused_result(std::string_view node_id,
                                                 const std::string& job_id) {
  auto& s = *impl_;
  auto found = s.node_ids.find(std::string(node_id));
  if (found == s.node_ids.end()) {
    return no_node(node_id);
  }
  count_job_failure(s, probe_, job_id, found->second);
  refresh(s, found->second);
  return ok();
}

result<void> lease_manager::fail(std::string_view node_id, const failed_msg& m) {
  auto lease = held_by(*impl_, probe_, node_id, m.lease, m.shot);
  if (!lease) {
    return lease.error();
  }
  auto& s = *impl_;
  auto node_idx = (*lease)->node;
  auto& shot = s.shots.at(m.shot);
  if ((*lease)->state == lease_state::cancelling) {
    ++probe_.leases_cancelled;
    end_lease(s, m.lease, "cancelled", "failed while being cancelled");
    finish_shot(s, outcome_of(shot, shot_status::cancelled, "cancelled"));
    return ok();
  }
  ++probe_.leases_failed;
  auto job = shot.request.job_id;
  count_job_failure(s, probe_, job, node_idx);
  if (!contains(shot.failed_nodes, node_idx)) {
    shot.failed_nodes.push_back(node_idx);
  }
  end_lease(s, m.lease, "failed", m.reason);
  if (!m.retryable) {
    ++probe_.shots_failed;
    finish_shot(s, outcome_of(shot, shot_status::failed, "not retryable: " + m.reason));
    fail_stranded_shots(s, probe_, job, m.reason);
    return ok();
  }
  requeue_or_finish(s, probe_, m.shot, m.reason);
  // This failure may have blocklisted the job's last usable node.
  fail_stranded_shots(s, probe_, job, m.reason);
  return ok();
}

result<void> lease_manager::cancel_confirmed(std::string_view node_id,
                                             const cancel_confirmed_msg& m) {
  auto& s = *impl_;
  auto it = s.leases.find(m.lease);
  if (it == s.leases.end()) {
    return ok();  // a cancel of something already over (a stale lease): nothing to free
  }
  auto lease = held_by(s, probe_, node_id, m.lease, m.shot);
  if (!lease) {
    return lease.error();
  }
  if ((*lease)->state != lease_state::cancelling) {
    return out_of_order("cancel_confirmed", m.lease, state_name((*lease)->state));
  }
  ++probe_.leases_cancelled;
  end_lease(s, m.lease, "cancelled", "confirmed by the node");
  requeue_or_finish(s, probe_, m.shot, "cancelled", false);
  return ok();
}

result<void> lease_manager::cancel_shot(std::string_view shot_id) {
  auto& s = *impl_;
  auto it = s.shots.find(std::string(shot_id));
  if (it == s.shots.end()) {
    return error(farm_errc::unknown_shot, "no queued or running shot " + std::string(shot_id));
  }
  auto& shot = it->second;
  if (shot.state == shot_state::queued) {
    --s.queued;
    finish_shot(s, outcome_of(shot, shot_status::cancelled, "cancelled before it started"));
    return ok();
  }
  shot.cancel_requested = true;
  auto& l = s.leases.at(shot.lease);
  if (l.state != lease_state::cancelling) {
    l.state = lease_state::cancelling;
    l.last_cancel_sent = clock_.now();
    s.cancelling.insert(l.epoch);
    s.events.emplace_back(cancel_event{s.nodes[l.node].spec.id, cancel_msg{l.epoch, l.shot_id}});
  }
  return ok();
}

// --- scheduling ----------------------------------------------------------------

namespace {

/// Candidate nodes examined per shot before it waits for the next pass.
constexpr int max_candidates = 64;
/// Shots examined at the front of one user's queue per turn.
constexpr int max_shots_per_turn = 8;

bool fits(const lease_manager::impl& s, std::uint32_t idx, const shot_entry& shot,
          const std::unordered_map<std::uint32_t, int>* job_failures, bool strict) {
  const auto& n = s.nodes[idx];
  const auto& r = shot.request;
  if (!n.indexed || n.max_gpu_mb < r.gpu_memory_mb) {
    return false;
  }
  if (std::find(n.spec.backends.begin(), n.spec.backends.end(), r.backend) ==
      n.spec.backends.end()) {
    return false;
  }
  if (!std::includes(n.sorted_tags.begin(), n.sorted_tags.end(), r.tags.begin(), r.tags.end())) {
    return false;
  }
  if (job_failures != nullptr) {
    auto f = job_failures->find(idx);
    if (f != job_failures->end() && f->second >= lease_manager::job_blocklist_after) {
      return false;
    }
  }
  if (contains(shot.rejected_nodes, idx)) {
    return false;
  }
  return !strict || !contains(shot.failed_nodes, idx);
}

std::optional<std::uint32_t> find_in_holders(const lease_manager::impl& s, const shot_entry& shot,
                                             const std::unordered_map<std::uint32_t, int>* jf,
                                             bool strict) {
  int examined = 0;
  for (const auto& ref : shot.request.references) {
    auto it = s.reference_holders.find(ref);
    if (it == s.reference_holders.end()) {
      continue;
    }
    for (auto idx : it->second) {
      if (fits(s, idx, shot, jf, strict)) {
        return idx;
      }
      if (++examined >= max_candidates) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> find_in_capacity(const lease_manager::impl& s, const shot_entry& shot,
                                              const std::unordered_map<std::uint32_t, int>* jf,
                                              bool strict) {
  auto it = s.capacity.find(shot.request.backend);
  if (it == s.capacity.end()) {
    return std::nullopt;
  }
  int examined = 0;
  // Smallest GPU that fits first: big GPUs stay free for shots that need them.
  for (auto p = it->second.lower_bound({shot.request.gpu_memory_mb, 0});
       p != it->second.end() && examined < max_candidates; ++p, ++examined) {
    if (fits(s, p->second, shot, jf, strict)) {
      return p->second;
    }
  }
  return std::nullopt;
}

std::optional<std::uint32_t> find_node(const lease_manager::impl& s, const shot_entry& shot) {
  auto jit = s.job_failures.find(shot.request.job_id);
  const auto* jf = jit == s.job_failures.end() ? nullptr : &jit->second;
  for (bool strict : {true, false}) {
    if (auto idx = find_in_holders(s, shot, jf, strict)) {
      return idx;
    }
    if (auto idx = find_in_capacity(s, shot, jf, strict)) {
      return idx;
    }
    if (shot.failed_nodes.empty()) {
      break;  // the relaxed pass only matters when the shot avoids nodes
    }
  }
  return std::nullopt;
}

}  // namespace

bool lease_manager::grant(shot_entry& shot, std::uint32_t node_idx) {
  auto& s = *impl_;
  auto epoch = next_epoch(s, epochs_);
  if (!epoch) {
    log::error("farm", "cannot reserve fencing epochs; granting nothing",
               {{"error", epoch.error().full_text()}});
    return false;
  }
  auto now = clock_.now();
  lease_entry l{*epoch, shot.request.shot_id, node_idx, lease_state::offered, now + timing_.ttl,
                {}};
  s.leases.emplace(*epoch, l);
  s.lease_deadlines.push({l.expires, *epoch});
  auto& n = s.nodes[node_idx];
  n.leases.insert(*epoch);
  change_used(s, node_idx, +1);
  shot.state = shot_state::leased;
  shot.lease = *epoch;
  --s.queued;
  ++probe_.leases_granted;
  const auto& r = shot.request;
  s.events.emplace_back(
      offer_event{n.spec.id, lease_offer_msg{*epoch, r.shot_id, r.job_id, r.backend,
                                             r.gpu_memory_mb, timing_.ttl.count(), r.spec}});
  return true;
}

// One turn of one user: the first of its first few queued shots that fits
// somewhere gets a lease. Entries of shots no longer queued are dropped.
bool lease_manager::serve_user(std::deque<std::string>& queue) {
  auto& s = *impl_;
  int examined = 0;
  for (std::size_t i = 0; i < queue.size() && examined < max_shots_per_turn;) {
    auto it = s.shots.find(queue[i]);
    if (it == s.shots.end() || it->second.state != shot_state::queued) {
      queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    ++examined;
    if (auto idx = find_node(s, it->second)) {
      if (!grant(it->second, *idx)) {
        return false;
      }
      queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(i));
      return true;
    }
    ++i;
  }
  return false;
}

std::size_t lease_manager::schedule_tier(int tier_index, std::size_t max_grants) {
  auto& s = *impl_;
  auto& tier = s.tiers[tier_index];
  std::size_t grants = 0;
  std::size_t misses = 0;
  while (!tier.ring.empty() && s.free_slots > 0 && grants < max_grants &&
         misses < tier.ring.size()) {
    auto user = std::move(tier.ring.front());
    tier.ring.pop_front();
    auto q = tier.shots_by_user.find(user);
    if (q == tier.shots_by_user.end()) {
      continue;
    }
    bool granted = serve_user(q->second);
    grants += granted ? 1 : 0;
    if (q->second.empty()) {
      // The user leaves the ring. Not a miss: counting it would end the pass
      // before the users still in the (now shorter) ring had their turn,
      // e.g. after a user's queued shots were all cancelled or failed.
      tier.shots_by_user.erase(q);
      misses = granted ? 0 : misses;
      continue;
    }
    misses = granted ? 0 : misses + 1;
    tier.ring.push_back(std::move(user));
  }
  return grants;
}

std::size_t lease_manager::schedule(std::size_t max_grants) {
  std::size_t grants = 0;
  for (int tier = 1; tier >= 0 && grants < max_grants; --tier) {
    grants += schedule_tier(tier, max_grants - grants);
  }
  return grants;
}

}  // namespace reelfarm::farm
