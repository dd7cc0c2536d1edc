// The farm socket against hostile peers (issue #19): raw ZeroMQ clients
// against a real coordinator. Every handshake outcome is read from the
// client's socket monitor, so no test waits for something not to happen.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <pqxx/pqxx>
#include <thread>
#include <zmq.hpp>

#include "reelfarm/farm/coordinator/admin_client.hpp"
#include "reelfarm/farm/coordinator/coordinator.hpp"
#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/protocol/codec.hpp"
#include "reelfarm/farm/protocol/farm_credentials.hpp"
#include "reelfarm/testing/services.hpp"

using namespace reelfarm;
using namespace reelfarm::farm;
using namespace std::chrono_literals;

namespace {

/// A coordinator on its own loop thread, on a port the OS picks.
struct running_coordinator {
  explicit running_coordinator(std::string dsn = "", std::string bind = "tcp://127.0.0.1:*") {
    coordinator_options o;
    o.bind = std::move(bind);
    o.postgres_dsn = std::move(dsn);
    o.timing.heartbeat = 200ms;
    o.timing.ttl = 1000ms;
    auto c = coordinator::create(o);
    REQUIRE(c);
    coord = std::move(c).value();
    loop = std::thread([this] { coord->run([this] { return stop.load(); }); });
  }
  ~running_coordinator() {
    stop = true;
    loop.join();
  }
  std::unique_ptr<coordinator> coord;
  std::atomic<bool> stop{false};
  std::thread loop;
};

enum class handshake { succeeded, refused_auth, failed };

/// A raw DEALER, with CURVE keys or without, watching its own handshakes.
class raw_peer {
 public:
  raw_peer(const std::string& endpoint, const std::optional<curve_keypair>& keys,
           const std::string& server_key, const std::string& routing_id = "") {
    dealer_.set(zmq::sockopt::linger, 0);
    if (!routing_id.empty()) {
      dealer_.set(zmq::sockopt::routing_id, routing_id);
    }
    if (keys) {
      dealer_.set(zmq::sockopt::curve_serverkey, server_key);
      dealer_.set(zmq::sockopt::curve_publickey, keys->public_key);
      dealer_.set(zmq::sockopt::curve_secretkey, keys->secret_key);
    }
    REQUIRE(zmq_socket_monitor(dealer_.handle(), "inproc://raw-peer-monitor",
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0);
    monitor_.connect("inproc://raw-peer-monitor");
    dealer_.connect(endpoint);
  }

  /// The first handshake outcome (fails the test after 10 s).
  handshake outcome() {
    monitor_.set(zmq::sockopt::rcvtimeo, 10000);
    zmq::message_t event;
    REQUIRE(monitor_.recv(event));
    zmq::message_t address;
    (void)monitor_.recv(address);
    std::uint16_t what = 0;
    std::memcpy(&what, event.data(), sizeof what);
    if (what == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      return handshake::succeeded;
    }
    return what == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ? handshake::refused_auth : handshake::failed;
  }

  void send(const frame& f) {
    auto text = encode_frame(f);
    REQUIRE(dealer_.send(zmq::buffer(text), zmq::send_flags::none));
  }

  /// True when a lease offer is already waiting (reads what is there).
  bool pending_offer() {
    zmq::message_t msg;
    while (dealer_.recv(msg, zmq::recv_flags::dontwait)) {
      auto f = decode_frame(msg.to_string_view(), nullptr, 1 << 20);
      if (f && std::holds_alternative<lease_offer_msg>(f->body)) {
        return true;
      }
    }
    return false;
  }

  /// The next frame from the coordinator (fails the test after 10 s).
  frame receive() {
    dealer_.set(zmq::sockopt::rcvtimeo, 10000);
    zmq::message_t msg;
    REQUIRE(dealer_.recv(msg));
    auto f = decode_frame(msg.to_string_view(), nullptr, 1 << 20);
    REQUIRE(f);
    return *f;
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t dealer_{context_, zmq::socket_type::dealer};
  zmq::socket_t monitor_{context_, zmq::socket_type::pair};
};

std::string error_code_of(const frame& f) {
  if (const auto* e = std::get_if<error_msg>(&f.body)) {
    return e->code;
  }
  if (std::holds_alternative<refused_msg>(f.body)) {
    return "refused";
  }
  return type_name(f.body);
}

register_msg a_node() {
  return register_msg{"evil", {}, 1, {"animatic"}, {}, {}, {}, "raw"};
}

std::size_t node_count(running_coordinator& c) {
  auto listed = admin_request(c.coord->endpoint(), c.coord->operator_credentials(),
                              admin_msg{"list", ""}, 5s);
  REQUIRE(listed);
  return nlohmann::json::parse(listed->body).size();
}

/// Enrols a fresh key for `node_id` with a join token, as a node does.
curve_keypair enrolled_key(running_coordinator& c, const std::string& node_id) {
  auto token = parse_join_token(c.coord->create_join_token(10min).value());
  REQUIRE(token);
  auto keys = generate_curve_keypair().value();
  raw_peer bootstrap(c.coord->endpoint(), token->bootstrap, token->server_public_key);
  REQUIRE(bootstrap.outcome() == handshake::succeeded);
  bootstrap.send(frame{node_id, enroll_msg{keys.public_key}});
  auto answer = bootstrap.receive();
  REQUIRE(std::holds_alternative<enrolled_msg>(answer.body));
  return keys;
}

}  // namespace

TEST_CASE("a peer without CURVE cannot talk to the farm", "[farm][auth]") {
  running_coordinator c;
  raw_peer plain(c.coord->endpoint(), std::nullopt, "", "node-x");
  CHECK(plain.outcome() != handshake::succeeded);
  CHECK(node_count(c) == 0);
}

TEST_CASE("a key that is not enrolled is refused at the handshake", "[farm][auth]") {
  running_coordinator c;
  auto stranger = generate_curve_keypair().value();
  auto server = c.coord->operator_credentials().server_public_key;
  raw_peer peer(c.coord->endpoint(), stranger, server, "node-x");
  CHECK(peer.outcome() == handshake::refused_auth);
  CHECK(node_count(c) == 0);
}

TEST_CASE("a join token enrols one node key and its own key can do nothing else", "[farm][auth]") {
  running_coordinator c;
  auto token = parse_join_token(c.coord->create_join_token(10min).value());
  REQUIRE(token);
  CHECK(token->server_public_key == c.coord->operator_credentials().server_public_key);
  raw_peer bootstrap(c.coord->endpoint(), token->bootstrap, token->server_public_key);
  REQUIRE(bootstrap.outcome() == handshake::succeeded);

  // A token holder cannot register, list nodes or drain with the token's key.
  bootstrap.send(frame{"", a_node()});
  CHECK(error_code_of(bootstrap.receive()) == "forbidden");
  bootstrap.send(frame{"", admin_msg{"list", ""}});
  CHECK(error_code_of(bootstrap.receive()) == "forbidden");
  // Enrolling the coordinator's own key, or a malformed one, is refused.
  bootstrap.send(frame{"node-a", enroll_msg{token->server_public_key}});
  CHECK(error_code_of(bootstrap.receive()) == "refused");

  auto keys = generate_curve_keypair().value();
  bootstrap.send(frame{"node-a", enroll_msg{keys.public_key}});
  CHECK(std::holds_alternative<enrolled_msg>(bootstrap.receive().body));
  // Asking again (a lost answer) is answered the same; another id is not.
  bootstrap.send(frame{"node-a", enroll_msg{keys.public_key}});
  CHECK(std::holds_alternative<enrolled_msg>(bootstrap.receive().body));
  bootstrap.send(frame{"node-b", enroll_msg{keys.public_key}});
  CHECK(error_code_of(bootstrap.receive()) == "refused");
  // A second key cannot take an enrolled node id.
  bootstrap.send(frame{"node-a", enroll_msg{generate_curve_keypair()->public_key}});
  CHECK(error_code_of(bootstrap.receive()) == "refused");

  raw_peer node(c.coord->endpoint(), keys, token->server_public_key, "node-a");
  REQUIRE(node.outcome() == handshake::succeeded);
  node.send(frame{"node-a", a_node()});
  CHECK(std::holds_alternative<registered_msg>(node.receive().body));
  CHECK(node_count(c) == 1);
}

TEST_CASE("an enrolled node key cannot act as another node or as an operator", "[farm][auth]") {
  running_coordinator c;
  auto server = c.coord->operator_credentials().server_public_key;
  auto keys_a = enrolled_key(c, "node-a");
  (void)enrolled_key(c, "node-b");

  // Node a's key under node b's routing id: every frame refused.
  raw_peer impostor(c.coord->endpoint(), keys_a, server, "node-b");
  REQUIRE(impostor.outcome() == handshake::succeeded);
  impostor.send(frame{"node-b", a_node()});
  CHECK(error_code_of(impostor.receive()) == "forbidden");
  impostor.send(frame{"node-b", done_msg{1, "shot", "x.mp4", "sha256:" + std::string(64, '0'), 1}});
  CHECK(error_code_of(impostor.receive()) == "forbidden");

  raw_peer node_a(c.coord->endpoint(), keys_a, server, "node-a");
  REQUIRE(node_a.outcome() == handshake::succeeded);
  node_a.send(frame{"", admin_msg{"drain", "node-b"}});
  CHECK(error_code_of(node_a.receive()) == "forbidden");
  node_a.send(frame{"", admin_msg{"token", "60"}});
  CHECK(error_code_of(node_a.receive()) == "forbidden");
  CHECK(node_count(c) == 0);
}

TEST_CASE("a peer claiming a node's routing id does not get that node's offers", "[farm][auth]") {
  running_coordinator c;
  auto server = c.coord->operator_credentials().server_public_key;
  auto keys_a = enrolled_key(c, "node-a");
  auto keys_b = enrolled_key(c, "node-b");
  // Node b connects first under the routing id node a would have had.
  raw_peer squatter(c.coord->endpoint(), keys_b, server, "node-a");
  REQUIRE(squatter.outcome() == handshake::succeeded);
  squatter.send(frame{"node-b", a_node()});
  REQUIRE(std::holds_alternative<registered_msg>(squatter.receive().body));
  squatter.send(frame{"node-b", drain_msg{true, "keep b out of the way"}});

  raw_peer node(c.coord->endpoint(), keys_a, server);
  REQUIRE(node.outcome() == handshake::succeeded);
  node.send(frame{"node-a", a_node()});
  REQUIRE(std::holds_alternative<registered_msg>(node.receive().body));
  shot_request shot;
  shot.shot_id = "s1";
  shot.job_id = "job-1";
  shot.user_id = "u1";
  shot.backend = "animatic";
  c.coord->submit(shot);
  // The offer reaches node a's own connection...
  frame offer = node.receive();
  while (std::holds_alternative<heartbeat_msg>(offer.body)) {
    offer = node.receive();
  }
  REQUIRE(std::holds_alternative<lease_offer_msg>(offer.body));
  CHECK(std::get<lease_offer_msg>(offer.body).shot == "s1");
  // ...and nothing of node a's went to the squatter.
  CHECK_FALSE(squatter.pending_offer());
}

TEST_CASE("a revoked node key is shut out at once and cannot come back", "[farm][auth]") {
  running_coordinator c;
  auto server = c.coord->operator_credentials().server_public_key;
  auto keys = enrolled_key(c, "node-r");
  raw_peer node(c.coord->endpoint(), keys, server, "node-r");
  REQUIRE(node.outcome() == handshake::succeeded);
  node.send(frame{"node-r", a_node()});
  REQUIRE(std::holds_alternative<registered_msg>(node.receive().body));

  auto revoked = admin_request(c.coord->endpoint(), c.coord->operator_credentials(),
                               admin_msg{"revoke", "node-r"}, 5s);
  REQUIRE(revoked);
  CHECK(revoked->ok);
  CHECK(node_count(c) == 0);  // removed from the farm, its leases re-queued
  // The live connection: its frames are refused from now on.
  node.send(frame{"node-r", heartbeat_msg{1, 1, {}}});
  CHECK(error_code_of(node.receive()) == "forbidden");
  // A new connection with the key: refused at the handshake.
  raw_peer again(c.coord->endpoint(), keys, server, "node-r");
  CHECK(again.outcome() == handshake::refused_auth);
  // Revoking what is not enrolled says so.
  auto unknown = admin_request(c.coord->endpoint(), c.coord->operator_credentials(),
                               admin_msg{"revoke", "node-nobody"}, 5s);
  REQUIRE(unknown);
  CHECK_FALSE(unknown->ok);
}

TEST_CASE("operator credentials of another farm are refused", "[farm][auth]") {
  running_coordinator ours;
  running_coordinator theirs;
  auto reply = admin_request(ours.coord->endpoint(), theirs.coord->operator_credentials(),
                             admin_msg{"list", ""}, 2s);
  REQUIRE_FALSE(reply);  // the CURVE handshake fails: no answer at all
  CHECK(reply.error().is(farm_errc::timeout));
}

TEST_CASE("keys, enrolments and tokens survive a coordinator restart but expired tokens do not",
          "[farm][auth]") {
  testing::scratch_database db;
  std::string endpoint;
  std::string server;
  curve_keypair keys;
  std::string token_text;
  {
    running_coordinator first(db.dsn());
    endpoint = first.coord->endpoint();
    server = first.coord->operator_credentials().server_public_key;
    keys = enrolled_key(first, "node-p");
    token_text = first.coord->create_join_token(10min).value();
  }
  {
    pqxx::connection conn(db.dsn());
    pqxx::work tx(conn);
    tx.exec(
        "UPDATE farm_join_tokens SET expires_at = now() - interval '1 second' "
        "WHERE enrolments = 0");
    tx.commit();
  }
  running_coordinator second(db.dsn(), endpoint);
  CHECK(second.coord->operator_credentials().server_public_key == server);
  raw_peer node(endpoint, keys, server, "node-p");
  REQUIRE(node.outcome() == handshake::succeeded);
  node.send(frame{"node-p", a_node()});
  CHECK(std::holds_alternative<registered_msg>(node.receive().body));

  auto token = parse_join_token(token_text);
  REQUIRE(token);
  raw_peer late(endpoint, token->bootstrap, server);
  CHECK(late.outcome() == handshake::refused_auth);
}

TEST_CASE("join tokens are checked for shape", "[farm][auth]") {
  auto keys = generate_curve_keypair().value();
  auto server = generate_curve_keypair().value();
  auto text = format_join_token({server.public_key, keys});
  auto parsed = parse_join_token(text);
  REQUIRE(parsed);
  CHECK(parsed->server_public_key == server.public_key);
  CHECK(parsed->bootstrap.public_key == keys.public_key);
  CHECK(parsed->bootstrap.secret_key == keys.secret_key);
  for (const std::string& bad :
       {std::string(""), std::string("rfj1-"), "rfj2-" + text.substr(5), text + "0",
        text.substr(0, text.size() - 1), text.substr(0, 10) + "G" + text.substr(11),
        text.substr(0, 69) + "_" + text.substr(70)}) {
    INFO(bad);
    auto r = parse_join_token(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(farm_errc::invalid_token));
  }
}
