#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "farm_fixture.hpp"
#include "reelfarm/farm/errc.hpp"

using namespace reelfarm;
using namespace reelfarm::farm;
using namespace reelfarm::farm::testing;
using namespace std::chrono_literals;

TEST_CASE("a shot is offered to a fitting node with a fresh epoch", "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("cpu-1"));
  f.add_node(farm_fixture::node("gpu-1", 1, 24000));
  f.submit(farm_fixture::shot("s1", "u1", plan_priority::standard, 16000));
  f.step();
  auto offers = f.take<offer_event>();
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].node_id == "gpu-1");
  CHECK(offers[0].offer.lease >= 1);
  CHECK(f.manager.queued_shots() == 0);
}

TEST_CASE("matching honours backend, GPU memory, tags and free slots", "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("small", 1, 8000, {"zone-a"}));
  f.add_node(farm_fixture::node("big", 1, 80000, {"zone-b"}));
  f.add_node(farm_fixture::node("comfy", 4, 80000, {"zone-a"}, "comfyui"));
  auto needs_tag = farm_fixture::shot("tagged", "u1", plan_priority::standard, 4000);
  needs_tag.tags = {"zone-b"};
  f.submit(needs_tag);
  auto other_backend = farm_fixture::shot("lipsync");
  other_backend.backend = "runpod";
  f.submit(other_backend);
  f.submit(farm_fixture::shot("huge", "u2", plan_priority::standard, 100000));
  f.submit(farm_fixture::shot("fits-small", "u3", plan_priority::standard, 4000));
  f.step();
  auto offers = f.take<offer_event>();
  REQUIRE(offers.size() == 2);
  std::map<std::string, std::string> where;
  for (const auto& o : offers) {
    where[o.offer.shot] = o.node_id;
  }
  CHECK(where["tagged"] == "big");
  CHECK(where["fits-small"] == "small");
  CHECK(f.manager.queued_shots() == 2);  // no runpod node, no 100 GB GPU
  // No free slot anywhere fitting: more shots wait.
  f.submit(farm_fixture::shot("waits", "u4", plan_priority::standard, 4000));
  f.step();
  CHECK(f.take<offer_event>().empty());
}

TEST_CASE("priority plans first, then round-robin across users, then FIFO", "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("n", 1));
  for (int i = 0; i < 4; ++i) {
    f.submit(farm_fixture::shot("greedy-" + std::to_string(i), "greedy"));
  }
  f.submit(farm_fixture::shot("modest-0", "modest"));
  f.submit(farm_fixture::shot("modest-1", "modest"));
  f.submit(farm_fixture::shot("pro-0", "pro", plan_priority::priority));
  std::vector<std::string> order;
  for (int i = 0; i < 7; ++i) {
    f.step();
    auto offers = f.accept_all();
    REQUIRE(offers.size() == 1);
    order.push_back(offers[0].offer.shot);
    REQUIRE(f.manager.complete("n", f.done(offers[0])));
  }
  CHECK(order == std::vector<std::string>{"pro-0", "greedy-0", "modest-0", "greedy-1", "modest-1",
                                          "greedy-2", "greedy-3"});
}

TEST_CASE("nodes holding the shot's consistency references are preferred", "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1, 24000));
  auto holder = farm_fixture::node("b", 1, 80000);
  holder.references = {"char:ANNA"};
  f.add_node(holder);
  auto s = farm_fixture::shot("s1", "u1", plan_priority::standard, 8000);
  s.references = {"char:ANNA"};
  f.submit(s);
  f.step();
  auto offers = f.take<offer_event>();
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].node_id == "b");  // not the best-fitting GPU, but it holds ANNA
}

TEST_CASE("a node that renders a shot then holds its references", "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1));
  f.add_node(farm_fixture::node("b", 1));
  auto s1 = farm_fixture::shot("s1");
  s1.references = {"loc:DINER"};
  f.submit(s1);
  f.step();
  auto first = f.accept_all();
  REQUIRE(f.manager.complete(first[0].node_id, f.done(first[0])));
  auto s2 = farm_fixture::shot("s2");
  s2.references = {"loc:DINER"};
  f.submit(s2);
  f.step();
  auto second = f.take<offer_event>();
  REQUIRE(second.size() == 1);
  CHECK(second[0].node_id == first[0].node_id);
}

TEST_CASE("a lost node's leases expire after the TTL and are re-granted", "[lease][timing]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1));
  f.submit(farm_fixture::shot("s1"));
  f.step();
  auto offers = f.accept_all();
  REQUIRE(offers[0].node_id == "a");
  auto epoch = offers[0].offer.lease;
  f.add_node(farm_fixture::node("b", 1));
  // b keeps heartbeating; a falls silent.
  for (int i = 0; i < 4; ++i) {
    f.clock.advance(1s);
    f.heartbeat("b");
    f.step();
  }
  CHECK(f.take<node_lost_event>().empty());  // 4 s < TTL 5 s
  f.clock.advance(1s);
  f.heartbeat("b");
  f.step();
  auto lost = f.take<node_lost_event>();
  REQUIRE(lost.size() == 1);
  CHECK(lost[0].node_id == "a");
  CHECK(lost[0].silent_for == 5s);
  auto regrant = f.take<offer_event>();
  REQUIRE(regrant.size() == 1);
  CHECK(regrant[0].node_id == "b");
  CHECK(regrant[0].offer.lease > epoch);
  CHECK(f.manager.node("a")->state == "lost");
}

TEST_CASE("heartbeats within the TTL keep a node and its leases, with jitter", "[lease][timing]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1));
  f.submit(farm_fixture::shot("s1"));
  f.step();
  auto offers = f.accept_all();
  held_lease h{offers[0].offer.lease, "s1"};
  for (int i = 0; i < 30; ++i) {
    f.clock.advance(i % 2 ? 1900ms : 100ms);  // up to 1 s late
    f.heartbeat("a", {h});
    f.step();
  }
  CHECK(f.take<node_lost_event>().empty());
  CHECK(f.take<lease_ended_event>().empty());
  CHECK(f.manager.probe().nodes_lost == 0);
}

TEST_CASE("a lease the node stops listing expires while the node lives", "[lease][timing]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1));
  f.submit(farm_fixture::shot("s1"));
  f.step();
  f.accept_all();
  for (int i = 0; i < 6; ++i) {
    f.clock.advance(1s);
    f.heartbeat("a");  // lists nothing
    f.step();
  }
  auto ended = f.take<lease_ended_event>();
  REQUIRE(ended.size() == 1);
  CHECK(ended[0].state == "expired");
  CHECK(f.take<offer_event>().size() == 1);  // re-granted on the same, still living node
}

TEST_CASE("a late result with an old epoch is rejected", "[lease][timing]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1));
  f.submit(farm_fixture::shot("s1"));
  f.step();
  auto old_offer = f.accept_all()[0];
  f.add_node(farm_fixture::node("b", 1));
  for (int i = 0; i < 6; ++i) {
    f.clock.advance(1s);
    f.heartbeat("b");
    f.step();
  }
  auto fresh = f.accept_all();
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0].node_id == "b");
  // a wakes up (SIGCONT) and reports its old lease.
  f.heartbeat("a", {{old_offer.offer.lease, "s1"}});
  f.step();
  auto cancels = f.take<cancel_event>();
  REQUIRE(cancels.size() == 1);
  CHECK(cancels[0].node_id == "a");
  auto late = f.manager.complete("a", f.done(old_offer));
  REQUIRE_FALSE(late);
  CHECK(late.error().is(farm_errc::stale_epoch));
  CHECK(f.manager.probe().stale_results == 1);
  REQUIRE(f.manager.complete("b", f.done(fresh[0])));
  f.step();
  auto outcomes = f.take<shot_outcome>();
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0].node_id == "b");
  CHECK(outcomes[0].lease == fresh[0].offer.lease);
}

TEST_CASE("out-of-order frames are refused", "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1));
  f.add_node(farm_fixture::node("b", 1));
  f.submit(farm_fixture::shot("s1"));
  f.step();
  auto o = f.take<offer_event>()[0];
  auto other = o.node_id == "a" ? "b" : "a";
  CHECK(f.manager.complete(o.node_id, f.done(o)).error().is(farm_errc::out_of_order));
  CHECK(f.manager.progress(o.node_id, {o.offer.lease, "s1", 5, ""})
            .error()
            .is(farm_errc::out_of_order));
  CHECK(
      f.manager.progress(other, {o.offer.lease, "s1", 5, ""}).error().is(farm_errc::unknown_lease));
  CHECK(f.manager.progress(o.node_id, {o.offer.lease + 500000, "s1", 5, ""})
            .error()
            .is(farm_errc::unknown_lease));
  CHECK(f.manager.heartbeat("ghost", {}).error().is(farm_errc::unknown_node));
  REQUIRE(f.manager.accept(o.node_id, {o.offer.lease, "s1"}));
  CHECK(
      f.manager.reject(o.node_id, {o.offer.lease, "s1", "no"}).error().is(farm_errc::out_of_order));
  CHECK(f.manager.progress(o.node_id, {o.offer.lease, "s1", 50, "draw"}));
}

TEST_CASE("an offer never accepted expires after the TTL", "[lease][timing]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1));
  f.submit(farm_fixture::shot("s1"));
  f.step();
  REQUIRE(f.take<offer_event>().size() == 1);
  f.clock.advance(4999ms);
  f.heartbeat("a");
  f.step();
  CHECK(f.take<lease_ended_event>().empty());
  f.clock.advance(1ms);
  f.heartbeat("a");
  f.step();
  CHECK(f.take<lease_ended_event>().size() == 1);
  CHECK(f.take<offer_event>().size() == 1);
}

TEST_CASE("a node failing the same job 3 times is blocklisted for it", "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("bad", 1));
  for (int i = 0; i < 3; ++i) {
    f.submit(
        farm_fixture::shot("s" + std::to_string(i), "u1", plan_priority::standard, 0, "job-x"));
    f.step();
    auto o = f.accept_all();
    REQUIRE(o.size() == 1);
    // Not retryable, so each shot ends at once and the next one comes.
    REQUIRE(f.manager.fail("bad", {o[0].offer.lease, o[0].offer.shot, "crash", false}));
  }
  CHECK(f.manager.probe().blocklisted == 1);
  f.take<shot_outcome>();
  f.add_node(farm_fixture::node("busy", 1, 0, {"zone-b"}));
  auto hog = farm_fixture::shot("hog", "u3", plan_priority::priority, 0, "job-z");
  hog.tags = {"zone-b"};  // only "busy" can take it
  f.submit(hog);
  f.step();
  REQUIRE(f.accept_all().size() == 1);  // "busy" now has no free slot
  f.submit(farm_fixture::shot("other-job", "u2", plan_priority::standard, 0, "job-y"));
  f.submit(farm_fixture::shot("s-new", "u1", plan_priority::standard, 0, "job-x"));
  f.step();
  auto offers = f.take<offer_event>();
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].node_id == "bad");
  CHECK(offers[0].offer.job == "job-y");  // the bad node still serves other jobs
  CHECK(f.manager.queued_shots() == 1);   // s-new waits for "busy", not blocklisted
  for (const auto& o : f.take<shot_outcome>()) {
    CHECK(o.shot_id != "s-new");
  }
}

TEST_CASE("a shot whose every live node is blocklisted for its job fails at once", "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1));
  f.add_node(farm_fixture::node("b", 1));
  for (int i = 0; i < 5; ++i) {
    f.submit(
        farm_fixture::shot("s" + std::to_string(i), "u1", plan_priority::standard, 0, "doomed"));
  }
  f.submit(farm_fixture::shot("fine", "u2", plan_priority::standard, 0, "healthy"));
  // Every render of job "doomed" fails, retryably: after 3 failures each
  // node is blocklisted for it, and no shot reached its own limits (6
  // attempts, 3 failing nodes: unreachable with 2 nodes), so without the
  // rule the shots would wait for ever.
  int failures = 0;
  for (int round = 0; round < 10 && f.manager.probe().blocklisted < 2; ++round) {
    f.step();
    for (const auto& o : f.accept_all()) {
      if (o.offer.job == "doomed") {
        REQUIRE(f.manager.fail(o.node_id, {o.offer.lease, o.offer.shot, "exit status 1", true}));
        ++failures;
      } else {
        REQUIRE(f.manager.complete(o.node_id, f.done(o)));
      }
    }
  }
  CHECK(failures == 6);  // 3 per node, then neither gets the job again
  CHECK(f.manager.probe().blocklisted == 2);
  f.step();  // no clock advance: the shots fail now, not after a timeout
  std::map<std::string, shot_outcome> outcomes;
  for (const auto& o : f.take<shot_outcome>()) {
    outcomes[o.shot_id] = o;
  }
  REQUIRE(outcomes.size() == 6);
  CHECK(f.manager.probe().shots_failed == 5);
  CHECK(outcomes["fine"].status == shot_status::done);
  for (int i = 0; i < 5; ++i) {
    const auto& o = outcomes["s" + std::to_string(i)];
    INFO(o.shot_id << ": " << o.reason);
    CHECK(o.status == shot_status::failed);
    CHECK(o.reason.find("blocklisted") != std::string::npos);
    CHECK(o.reason.find("exit status 1") != std::string::npos);
  }
  CHECK(f.manager.queued_shots() == 0);
  CHECK(f.take<offer_event>().empty());
  // A later shot of the job fails on submit; other jobs are still served.
  f.submit(farm_fixture::shot("late", "u1", plan_priority::standard, 0, "doomed"));
  f.submit(farm_fixture::shot("fine-2", "u2", plan_priority::standard, 0, "healthy"));
  f.step();
  auto late = f.take<shot_outcome>();
  REQUIRE(late.size() == 1);
  CHECK(late[0].shot_id == "late");
  CHECK(late[0].status == shot_status::failed);
  auto offers = f.take<offer_event>();
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].offer.shot == "fine-2");
}

TEST_CASE("losing or draining the last node not blocklisted fails the job's waiting shots",
          "[lease][timing]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("bad", 1));
  f.add_node(farm_fixture::node("good", 1));
  // "good" is busy with another job; "bad" fails job-x three times.
  f.submit(farm_fixture::shot("hog", "u2", plan_priority::priority, 0, "job-y"));
  f.step();
  auto hog = f.accept_all();
  REQUIRE(hog.size() == 1);
  auto good = hog[0].node_id;
  auto bad = good == "good" ? std::string("bad") : std::string("good");
  for (int i = 0; i < 3; ++i) {
    f.submit(
        farm_fixture::shot("x" + std::to_string(i), "u1", plan_priority::standard, 0, "job-x"));
    f.step();
    auto o = f.accept_all();
    REQUIRE(o.size() == 1);
    REQUIRE(o[0].node_id == bad);
    REQUIRE(f.manager.fail(bad, {o[0].offer.lease, o[0].offer.shot, "crash", false}));
  }
  f.submit(farm_fixture::shot("waiting", "u1", plan_priority::standard, 0, "job-x"));
  f.step();
  for (const auto& o : f.take<shot_outcome>()) {
    CHECK(o.shot_id != "waiting");  // the busy node could still take it
  }
  CHECK(f.manager.queued_shots() == 1);

  SECTION("drained") {
    REQUIRE(f.manager.drain(good, true));
  }
  SECTION("lost") {
    // Only "bad" keeps heartbeating; the busy node falls silent past the TTL.
    for (int i = 0; i < 6; ++i) {
      f.clock.advance(1s);
      f.heartbeat(bad);
      f.step();
    }
  }
  f.step();
  auto outcomes = f.take<shot_outcome>();
  bool failed = false;
  for (const auto& o : outcomes) {
    if (o.shot_id == "waiting") {
      failed = o.status == shot_status::failed && o.reason.find("blocklisted") != std::string::npos;
    }
  }
  CHECK(failed);
  CHECK(f.manager.queued_shots() <= 1);  // at most the lost node's re-queued "hog"
}

TEST_CASE("a shot failing on 3 different nodes fails, non-retryable fails at once", "[lease]") {
  farm_fixture f;
  for (auto id : {"a", "b", "c", "d"}) {
    f.add_node(farm_fixture::node(id, 1));
  }
  f.submit(farm_fixture::shot("doomed"));
  std::set<std::string> tried;
  for (int i = 0; i < 3; ++i) {
    f.step();
    auto o = f.accept_all();
    REQUIRE(o.size() == 1);
    CHECK(tried.insert(o[0].node_id).second);  // a different node each time
    REQUIRE(f.manager.fail(o[0].node_id, {o[0].offer.lease, "doomed", "segfault", true}));
  }
  f.step();
  auto outcomes = f.take<shot_outcome>();
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0].status == shot_status::failed);
  CHECK(f.take<offer_event>().empty());

  f.submit(farm_fixture::shot("bad-input"));
  f.step();
  auto o = f.accept_all();
  REQUIRE(f.manager.fail(o[0].node_id, {o[0].offer.lease, "bad-input", "no such voice", false}));
  f.step();
  auto done = f.take<shot_outcome>();
  REQUIRE(done.size() == 1);
  CHECK(done[0].status == shot_status::failed);
}

TEST_CASE("cancel is confirmed before the slot is reused", "[lease][timing]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1));
  f.submit(farm_fixture::shot("s1"));
  f.submit(farm_fixture::shot("s2"));
  f.step();
  auto o = f.accept_all();
  REQUIRE(o.size() == 1);
  REQUIRE(f.manager.cancel_shot("s1"));
  f.step();
  REQUIRE(f.take<cancel_event>().size() == 1);
  CHECK(f.take<offer_event>().empty());  // slot still busy
  f.clock.advance(1s);
  f.heartbeat("a", {{o[0].offer.lease, "s1"}});
  f.step();
  CHECK(f.take<cancel_event>().size() == 1);  // resent every second until confirmed
  REQUIRE(f.manager.cancel_confirmed("a", {o[0].offer.lease, "s1"}));
  f.step();
  auto outcomes = f.take<shot_outcome>();
  REQUIRE(outcomes.size() == 1);
  CHECK(outcomes[0].status == shot_status::cancelled);
  auto next = f.take<offer_event>();
  REQUIRE(next.size() == 1);
  CHECK(next[0].offer.shot == "s2");
  // A queued shot is cancelled at once.
  f.submit(farm_fixture::shot("s3"));
  REQUIRE(f.manager.cancel_shot("s3"));
  CHECK(f.take<shot_outcome>().empty());
  f.step();
  CHECK(f.take<shot_outcome>().size() == 1);
}

TEST_CASE("drain lets running shots finish and grants nothing new", "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 2));
  f.submit(farm_fixture::shot("s1"));
  f.step();
  auto o = f.accept_all();
  REQUIRE(f.manager.drain("a", true));
  f.submit(farm_fixture::shot("s2"));
  f.step();
  CHECK(f.take<offer_event>().empty());
  CHECK(f.take<drain_event>().size() == 1);
  CHECK(f.manager.node("a")->state == "draining");
  REQUIRE(f.manager.complete("a", f.done(o[0])));
  CHECK(f.manager.node("a")->state == "drained");
  REQUIRE(f.manager.drain("a", false));
  f.step();
  CHECK(f.take<offer_event>().size() == 1);
}

TEST_CASE("an operator's drain outlives a node restart but a node's own drain at shutdown does not",
          "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1));
  f.add_node(farm_fixture::node("b", 1));
  REQUIRE(f.manager.drain("a", true));  // the operator
  REQUIRE(f.manager.drain("a", true, lease_manager::drained_by::node_itself));
  REQUIRE(f.manager.drain("b", true, lease_manager::drained_by::node_itself));
  f.add_node(farm_fixture::node("a", 1));  // both restart and register again
  f.add_node(farm_fixture::node("b", 1));
  CHECK(f.manager.node("a")->state == "drained");
  CHECK(f.manager.node("b")->state == "alive");
  f.submit(farm_fixture::shot("s1"));
  f.step();
  auto offers = f.take<offer_event>();
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].node_id == "b");
}

TEST_CASE("a re-registering node is recognised and keeps the leases it still runs", "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 2));
  f.submit(farm_fixture::shot("s1"));
  f.submit(farm_fixture::shot("s2"));
  f.step();
  auto o = f.accept_all();
  REQUIRE(o.size() == 2);
  // The agent restarted: it still runs s1 only.
  REQUIRE(
      f.manager.register_node(farm_fixture::node("a", 2), {{o[0].offer.lease, o[0].offer.shot}}));
  CHECK(f.manager.nodes().size() == 1);
  CHECK(f.manager.node("a")->leases == std::vector<std::uint64_t>{o[0].offer.lease});
  f.step();
  auto again = f.take<offer_event>();
  REQUIRE(again.size() == 1);  // the lost one is offered again
  CHECK(again[0].offer.shot == o[1].offer.shot);
}

TEST_CASE("remove forgets a node and re-queues its shots", "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("a", 1));
  f.submit(farm_fixture::shot("s1"));
  f.step();
  f.accept_all();
  REQUIRE(f.manager.remove_node("a"));
  CHECK(f.manager.nodes().empty());
  CHECK(f.manager.queued_shots() == 1);
  CHECK(f.manager.remove_node("a").error().is(farm_errc::unknown_node));
}

TEST_CASE("epochs continue above the allocator's floor after a restart", "[lease]") {
  manual_clock clock;
  memory_epoch_allocator epochs(5000);
  lease_manager m(clock, epochs);
  REQUIRE(m.register_node(farm_fixture::node("a"), {{42, "old-shot"}}));
  auto events = m.take_events();
  bool cancelled_old = false;
  for (auto& e : events) {
    if (auto* c = std::get_if<cancel_event>(&e)) {
      cancelled_old = c->cancel.lease == 42;
    }
  }
  CHECK(cancelled_old);  // the predecessor's lease is stopped on the node
  REQUIRE(m.submit(farm_fixture::shot("s")));
  m.schedule();
  for (auto& e : m.take_events()) {
    if (auto* o = std::get_if<offer_event>(&e)) {
      CHECK(o->offer.lease >= 5000);
    }
  }
  CHECK(m.complete("a", done_msg{42, "old-shot", "x", "sha256:" + std::string(64, 'a'), 1})
            .error()
            .is(farm_errc::stale_epoch));
}

TEST_CASE("a node that was only busy when it refused an offer is offered the shot again",
          "[lease]") {
  farm_fixture f;
  f.add_node(farm_fixture::node("only", 1));
  f.submit(farm_fixture::shot("s1"));
  // The node reported its last result but had not freed the slot yet.
  f.step();
  auto first = f.take<offer_event>();
  REQUIRE(first.size() == 1);
  REQUIRE(f.manager.reject("only", {first[0].offer.lease, "s1", "no free slot"}));
  f.step();
  auto again = f.accept_all();
  REQUIRE(again.size() == 1);  // not excluded: it is the only node
  CHECK(again[0].node_id == "only");
  CHECK(again[0].offer.lease != first[0].offer.lease);
  REQUIRE(f.manager.complete("only", f.done(again[0])));
  f.step();
  auto done = f.take<shot_outcome>();
  REQUIRE(done.size() == 1);
  CHECK(done[0].status == shot_status::done);

  SECTION("a node that keeps refusing is excluded after 3 times") {
    f.submit(farm_fixture::shot("s2"));
    for (int i = 0; i < 3; ++i) {
      f.step();
      auto o = f.take<offer_event>();
      REQUIRE(o.size() == 1);
      REQUIRE(f.manager.reject("only", {o[0].offer.lease, "s2", "no free slot"}));
    }
    f.step();
    CHECK(f.take<offer_event>().empty());
    CHECK(f.manager.queued_shots() == 1);
  }
  SECTION("a refusal for good excludes the node at once") {
    f.submit(farm_fixture::shot("s3"));
    f.step();
    auto o = f.take<offer_event>();
    REQUIRE(o.size() == 1);
    REQUIRE(f.manager.reject("only", {o[0].offer.lease, "s3", "backend not available"}));
    f.step();
    CHECK(f.take<offer_event>().empty());
  }
}

TEST_CASE("a slot busy with a render the node no longer owns is not offered until it frees",
          "[lease]") {
  // A new coordinator (failover) or a node back from a partition: the node
  // still renders a lease that is not ours. Offering into that slot would be
  // rejected ("no free slot"), which is final for the shot on that node.
  farm_fixture f;
  REQUIRE(f.manager.register_node(farm_fixture::node("a", 1), {{999, "old-job/old-shot"}}));
  f.submit(farm_fixture::shot("s1"));
  f.step();
  CHECK(f.take<offer_event>().empty());
  auto cancels = f.take<cancel_event>();
  REQUIRE(cancels.size() == 1);
  CHECK(cancels[0].cancel.lease == 999);
  // Still rendering it at the next heartbeat: still no offer.
  REQUIRE(f.manager.heartbeat("a", {{999, "old-job/old-shot"}}));
  f.step();
  CHECK(f.take<offer_event>().empty());
  // The cancelled render ended: the slot is free again.
  REQUIRE(f.manager.heartbeat("a", {}));
  f.step();
  auto offers = f.take<offer_event>();
  REQUIRE(offers.size() == 1);
  CHECK(offers[0].offer.shot == "s1");
}

TEST_CASE(
    "provider backends: nodes get only the backends they advertise; a provider failure "
    "moves the shot to another node with that backend",
    "[lease]") {
  farm_fixture f;
  auto multi = farm_fixture::node("multi", 2);
  multi.backends = {"animatic", "comfyui", "replicate"};
  f.add_node(multi);
  auto comfy = farm_fixture::shot("comfy-shot");
  comfy.backend = "comfyui";
  auto rep = farm_fixture::shot("replicate-shot");
  rep.backend = "replicate";
  auto pod = farm_fixture::shot("runpod-shot");
  pod.backend = "runpod";
  f.submit(comfy);
  f.submit(rep);
  f.submit(pod);
  f.step();
  auto offers = f.take<offer_event>();
  REQUIRE(offers.size() == 2);
  for (const auto& o : offers) {
    CHECK(o.node_id == "multi");
    CHECK(o.offer.backend == (o.offer.shot == "comfy-shot" ? "comfyui" : "replicate"));
  }
  CHECK(f.manager.queued_shots() == 1);  // nobody runs runpod yet
  f.add_node(farm_fixture::node("pod", 1, 0, {}, "runpod"));
  f.step();
  auto later = f.take<offer_event>();
  REQUIRE(later.size() == 1);
  CHECK(later[0].node_id == "pod");
  CHECK(later[0].offer.backend == "runpod");

  // The comfy shot fails on "multi" (the provider answered 503); another
  // comfyui node takes it.
  auto second = farm_fixture::node("comfy-2", 1);
  second.backends = {"comfyui"};
  f.add_node(second);
  for (const auto& o : offers) {
    REQUIRE(f.manager.accept(o.node_id, {o.offer.lease, o.offer.shot}));
  }
  const auto& c = offers[0].offer.shot == "comfy-shot" ? offers[0] : offers[1];
  REQUIRE(f.manager.fail("multi", {c.offer.lease, "comfy-shot", "comfyui: HTTP 503", true}));
  f.step();
  auto retried = f.take<offer_event>();
  REQUIRE(retried.size() == 1);
  CHECK(retried[0].offer.shot == "comfy-shot");
  CHECK(retried[0].node_id == "comfy-2");
}
