// Real node processes against a real coordinator (ZeroMQ over TCP, real
// PostgreSQL): kill -9, SIGSTOP/SIGCONT past the TTL, coordinator restart,
// hostile peers. Timing is shortened (200 ms heartbeats, 1 s TTL) so each
// test stays well under 30 s.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <future>
#include <pqxx/pqxx>
#include <thread>
#include <zmq.hpp>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/process.hpp"
#include "reelfarm/farm/coordinator/admin_client.hpp"
#include "reelfarm/farm/coordinator/coordinator.hpp"
#include "reelfarm/farm/protocol/codec.hpp"
#include "reelfarm/farm/protocol/farm_credentials.hpp"
#include "reelfarm/testing/services.hpp"
#include "reelfarm/testing/temp_dir.hpp"

using namespace reelfarm;
using namespace reelfarm::farm;
using namespace std::chrono_literals;

namespace {

// The render program: reports progress, sleeps as long as the spec says,
// writes the job file as its segment.
const char* render_script = R"(#!/bin/sh
echo "progress 10 start"
ms=$(sed -n 's/.*"sleep_ms":\([0-9]*\).*/\1/p' "$1")
sleep $(awk "BEGIN{print ${ms:-100}/1000}")
echo "progress 90 encode"
cat "$1" > "$2"
)";

struct farm_harness {
  testing::temp_dir dir;
  testing::scratch_database db;
  std::string endpoint;
  std::unique_ptr<coordinator> coord;
  std::thread loop;
  std::atomic<bool> stop{false};
  std::vector<shot_outcome> outcomes;
  std::map<std::string, child_process> nodes;

  farm_harness() {
    auto script = dir.path() / "render.sh";
    REQUIRE(write_file_atomically(script, render_script, 0755));
  }

  ~farm_harness() {
    for (auto& [name, child] : nodes) {
      child.signal(SIGCONT);
      child.signal(SIGKILL);
      child.wait_for(2s);
    }
    stop_coordinator();
  }

  // The first start binds a port the OS picks; a restart binds the same
  // endpoint again, since the running nodes know no other. A port freed
  // moments ago can still be held by a connection closing on the other side,
  // so a restart retries for a while before it gives up.
  void start_coordinator() {
    coordinator_options o;
    o.bind = endpoint.empty() ? "tcp://127.0.0.1:*" : endpoint;
    o.timing.heartbeat = 200ms;
    o.timing.ttl = 1000ms;
    o.timing.cancel_resend = 500ms;
    o.postgres_dsn = db.dsn();
    auto c = coordinator::create(o);
    for (int tries = 1; !c && !endpoint.empty() && tries < 100; ++tries) {
      std::this_thread::sleep_for(50ms);
      c = coordinator::create(o);
    }
    REQUIRE(c);
    coord = std::move(c).value();
    endpoint = coord->endpoint();
    stop = false;
    loop = std::thread([this] { coord->run([this] { return stop.load(); }); });
  }

  void stop_coordinator() {
    if (!coord) {
      return;
    }
    stop = true;
    loop.join();
    coord.reset();
  }

  std::string spawn_node(const std::string& name) {
    process_options p;
    p.argv = {FARM_TEST_NODE,
              "--join",
              endpoint,
              "--token",
              coord->create_join_token().value(),
              "--backend",
              "animatic=exec:" + (dir.path() / "render.sh").string(),
              "--gpus",
              "none",
              "--node-dir",
              (dir.path() / name).string()};
    p.output_file = (dir.path() / (name + ".log")).string();
    auto child = child_process::spawn(p);
    REQUIRE(child);
    nodes[name] = std::move(child).value();
    for (int i = 0; i < 100; ++i) {
      if (auto id = read_file(dir.path() / name / "node-id")) {
        return id->substr(0, id->size() - 1);
      }
      std::this_thread::sleep_for(20ms);
    }
    FAIL("node " << name << " wrote no node id");
    return "";
  }

  // Runs on the loop thread and waits for the answer.
  template <class F>
  auto query(F fn) {
    std::promise<decltype(fn(std::declval<lease_manager&>()))> p;
    auto fut = p.get_future();
    coord->post([&](lease_manager& m) { p.set_value(fn(m)); });
    return fut.get();
  }

  bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      auto fresh = coord->take_outcomes();
      outcomes.insert(outcomes.end(), fresh.begin(), fresh.end());
      if (pred()) {
        return true;
      }
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  bool wait_registered(const std::string& id) {
    return wait_until(
        [&] {
          return query([&](lease_manager& m) {
            auto n = m.node(id);
            return n && n->state == "alive";
          });
        },
        10s);
  }

  // The lease `shot` runs under, and on which node; 0 when none yet.
  std::pair<std::uint64_t, std::string> lease_of(const std::string& shot) {
    return query([&](lease_manager& m) {
      for (const auto& n : m.nodes()) {
        for (auto l : n.leases) {
          (void)l;
          return std::pair<std::uint64_t, std::string>{l, n.id};
        }
      }
      (void)shot;
      return std::pair<std::uint64_t, std::string>{0, ""};
    });
  }

  std::string log_of(const std::string& name) {
    auto text = read_file(dir.path() / (name + ".log"));
    return text ? *text : "";
  }

  static shot_request shot(const std::string& id, int sleep_ms) {
    shot_request s;
    s.shot_id = id;
    s.job_id = "job-1";
    s.user_id = "u1";
    s.backend = "animatic";
    s.spec = R"({"sleep_ms":)" + std::to_string(sleep_ms) + "}";
    return s;
  }

  int rows(const std::string& sql) {
    pqxx::connection c(db.dsn());
    pqxx::read_transaction tx(c);
    return tx.exec1(sql)[0].as<int>();
  }
};

}  // namespace

TEST_CASE("kill -9 of a node mid-lease: the shot is re-granted and done once", "[farm][process]") {
  farm_harness h;
  h.start_coordinator();
  auto a = h.spawn_node("a");
  REQUIRE(h.wait_registered(a));
  h.coord->submit(farm_harness::shot("s1", 4000));
  REQUIRE(h.wait_until([&] { return h.lease_of("s1").second == a; }, 5s));
  auto b = h.spawn_node("b");
  REQUIRE(h.wait_registered(b));
  h.nodes["a"].signal(SIGKILL);
  INFO(h.log_of("a") << h.log_of("b"));
  REQUIRE(h.wait_until([&] { return !h.outcomes.empty(); }, 15s));
  REQUIRE(h.outcomes.size() == 1);
  CHECK(h.outcomes[0].status == shot_status::done);
  CHECK(h.outcomes[0].node_id == b);
  CHECK(h.coord->probe().nodes_lost == 1);
  CHECK(h.rows("SELECT count(*) FROM farm_leases WHERE shot_id = 's1' AND state = 'done'") == 1);
  CHECK(h.rows("SELECT count(*) FROM farm_leases WHERE shot_id = 's1' AND state = 'expired'") == 1);
}

TEST_CASE("a node frozen past its TTL has its late result rejected", "[farm][process]") {
  farm_harness h;
  h.start_coordinator();
  auto a = h.spawn_node("a");
  REQUIRE(h.wait_registered(a));
  h.coord->submit(farm_harness::shot("s1", 1500));
  REQUIRE(h.wait_until([&] { return h.lease_of("s1").second == a; }, 5s));
  std::this_thread::sleep_for(300ms);  // accepted and rendering
  h.nodes["a"].signal(SIGSTOP);
  auto b = h.spawn_node("b");
  INFO(h.log_of("a") << h.log_of("b"));
  REQUIRE(h.wait_until([&] { return !h.outcomes.empty(); }, 15s));
  CHECK(h.outcomes[0].node_id == b);
  // a's render program finished while a was frozen; a reports it on waking.
  h.nodes["a"].signal(SIGCONT);
  REQUIRE(h.wait_until([&] { return h.coord->probe().stale_results >= 1; }, 10s));
  std::this_thread::sleep_for(500ms);
  h.wait_until([] { return false; }, 200ms);
  CHECK(h.outcomes.size() == 1);
  CHECK(h.rows("SELECT count(*) FROM farm_leases WHERE shot_id = 's1' AND state = 'done'") == 1);
  CHECK_THAT(h.log_of("a"), Catch::Contains("stale_epoch"));
}

TEST_CASE("a coordinator restart keeps node ids and never reuses an epoch", "[farm][process]") {
  farm_harness h;
  h.start_coordinator();
  auto a = h.spawn_node("a");
  auto b = h.spawn_node("b");
  REQUIRE(h.wait_registered(a));
  REQUIRE(h.wait_registered(b));
  h.coord->submit(farm_harness::shot("s1", 100));
  REQUIRE(h.wait_until([&] { return h.outcomes.size() == 1; }, 10s));
  auto first_epoch = h.outcomes[0].lease;
  h.stop_coordinator();
  h.start_coordinator();  // same endpoint, same database; the nodes keep running
  INFO(h.log_of("a") << h.log_of("b"));
  REQUIRE(h.wait_registered(a));
  REQUIRE(h.wait_registered(b));
  h.coord->submit(farm_harness::shot("s2", 100));
  h.coord->submit(farm_harness::shot("s3", 100));
  REQUIRE(h.wait_until([&] { return h.outcomes.size() == 3; }, 10s));
  for (std::size_t i = 1; i < 3; ++i) {
    CHECK(h.outcomes[i].status == shot_status::done);
    CHECK(h.outcomes[i].lease > first_epoch);
  }
  CHECK(h.rows("SELECT count(*) FROM farm_nodes") == 2);
  CHECK(h.rows("SELECT min(registrations) FROM farm_nodes") >= 2);
}

TEST_CASE("hostile peers get error frames and the coordinator keeps serving", "[farm][process]") {
  farm_harness h;
  h.start_coordinator();
  // A compromised node: its key is enrolled (so CURVE lets it in), what it
  // sends is not to be trusted.
  auto token = parse_join_token(h.coord->create_join_token().value());
  REQUIRE(token);
  auto keys = generate_curve_keypair().value();
  zmq::context_t ctx(1);
  {
    zmq::socket_t bootstrap(ctx, zmq::socket_type::dealer);
    bootstrap.set(zmq::sockopt::linger, 0);
    bootstrap.set(zmq::sockopt::curve_serverkey, token->server_public_key);
    bootstrap.set(zmq::sockopt::curve_publickey, token->bootstrap.public_key);
    bootstrap.set(zmq::sockopt::curve_secretkey, token->bootstrap.secret_key);
    bootstrap.set(zmq::sockopt::rcvtimeo, 10000);
    bootstrap.connect(h.endpoint);
    auto enroll = encode_frame(frame{"evil", enroll_msg{keys.public_key}});
    bootstrap.send(zmq::buffer(enroll), zmq::send_flags::none);
    zmq::message_t answer;
    REQUIRE(bootstrap.recv(answer));
    REQUIRE(std::holds_alternative<enrolled_msg>(decode_frame(answer.to_string_view())->body));
  }
  zmq::socket_t peer(ctx, zmq::socket_type::dealer);
  peer.set(zmq::sockopt::routing_id, std::string("evil"));
  peer.set(zmq::sockopt::linger, 0);
  peer.set(zmq::sockopt::curve_serverkey, token->server_public_key);
  peer.set(zmq::sockopt::curve_publickey, keys.public_key);
  peer.set(zmq::sockopt::curve_secretkey, keys.secret_key);
  peer.connect(h.endpoint);
  auto ask = [&](const std::string& bytes) {
    peer.send(zmq::buffer(bytes), zmq::send_flags::none);
    zmq::pollitem_t item{peer.handle(), 0, ZMQ_POLLIN, 0};
    REQUIRE(zmq::poll(&item, 1, 3000ms) == 1);
    zmq::message_t reply;
    (void)peer.recv(reply, zmq::recv_flags::none);
    auto f = decode_frame(reply.to_string_view());
    REQUIRE(f);
    return f->body;
  };
  auto code_of = [&](const message& m) {
    REQUIRE(std::holds_alternative<error_msg>(m));
    return std::get<error_msg>(m).code;
  };
  CHECK(code_of(ask("garbage")) == "malformed_frame");
  CHECK(code_of(ask(std::string(200000, '{'))) == "frame_too_large");
  CHECK(code_of(ask(R"({"v":1,"type":"heartbeat","node":"evil","seq":1})")) == "unknown_node");
  CHECK(code_of(ask(R"({"v":1,"type":"done","node":"other","lease":1,"shot":"s",)"
                    R"("artifact":"a","checksum":"x","duration_ms":1})")) == "invalid_field");
  CHECK(
      code_of(ask(R"({"v":1,"type":"progress","node":"evil","lease":5,"shot":"s","percent":1})")) ==
      "unknown_node");
  auto refused = ask(R"({"v":9,"type":"register","node":"evil"})");
  REQUIRE(std::holds_alternative<refused_msg>(refused));
  CHECK_THAT(std::get<refused_msg>(refused).reason, Catch::Contains("version 9"));
  // Still serving: an operator can list nodes.
  auto list = admin_request(h.endpoint, h.coord->operator_credentials(), admin_msg{"list", ""}, 3s);
  REQUIRE(list);
  CHECK(list->body == "[]");
  CHECK(h.coord->probe().protocol_errors >= 5);
}

TEST_CASE("operators list, drain, undrain and remove nodes", "[farm][process]") {
  farm_harness h;
  h.start_coordinator();
  auto a = h.spawn_node("a");
  REQUIRE(h.wait_registered(a));
  auto list = admin_request(h.endpoint, h.coord->operator_credentials(), admin_msg{"list", ""}, 3s);
  REQUIRE(list);
  CHECK_THAT(list->body, Catch::Contains(a) && Catch::Contains("\"alive\""));
  REQUIRE(
      admin_request(h.endpoint, h.coord->operator_credentials(), admin_msg{"drain", a}, 3s)->ok);
  h.coord->submit(farm_harness::shot("s1", 100));
  std::this_thread::sleep_for(500ms);
  CHECK(h.lease_of("s1").first == 0);  // drained: nothing granted
  REQUIRE(
      admin_request(h.endpoint, h.coord->operator_credentials(), admin_msg{"undrain", a}, 3s)->ok);
  REQUIRE(h.wait_until([&] { return h.outcomes.size() == 1; }, 10s));
  auto missing =
      admin_request(h.endpoint, h.coord->operator_credentials(), admin_msg{"drain", "nope"}, 3s);
  REQUIRE(missing);
  CHECK_FALSE(missing->ok);
  CHECK(admin_request(h.endpoint, h.coord->operator_credentials(), admin_msg{"remove", a}, 3s)->ok);
}
