#include "reelfarm/farm/coordinator/coordinator.hpp"

#include <cerrno>
#include <mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/coordinator/farm_store.hpp"
#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/protocol/codec.hpp"
#include "src/coordinator/admin_json.hpp"
#include "src/coordinator/coordinator_metrics.hpp"
#include "src/coordinator/farm_auth.hpp"

namespace reelfarm::farm {

struct coordinator::impl {
  coordinator_options options;
  std::string endpoint;  ///< the bound address, port resolved
  steady_farm_clock clock;
  memory_epoch_allocator memory_epochs;
  std::unique_ptr<farm_store> store;
  std::unique_ptr<lease_manager> manager;
  zmq::context_t context{1};
  std::unique_ptr<farm_auth> auth;
  farm_credentials operator_credentials;
  // The ZAP handler of this context (RFC 27): libzmq asks it at every CURVE
  // handshake on the router. Bound before the router, served by the loop.
  zmq::socket_t zap{context, zmq::socket_type::rep};
  zmq::socket_t router{context, zmq::socket_type::router};
  std::unordered_map<std::uint64_t, std::string> lease_jobs;  ///< for persistence
  /// Node id -> the routing id of the connection its last authenticated
  /// frame came on. Routing ids are libzmq's own (nodes do not choose them),
  /// so no peer can take another node's offers by claiming its id.
  std::unordered_map<std::string, std::string> routes;

  mutable std::mutex mutex;
  std::vector<std::function<void(lease_manager&)>> inbox;
  std::vector<shot_outcome> outcomes;
  farm_probe probe_copy;
  coordinator_metrics metrics;  ///< loop thread only

  void send(const std::string& identity, const frame& f);
  void send_to_node(const std::string& node_id, const frame& f);
  void send_error(const std::string& identity, const std::string& node, const error& e,
                  const std::string& about, std::uint64_t lease);
  void on_bytes(const std::string& identity, const std::string& client_key, std::string_view bytes);
  void on_frame(const std::string& identity, const std::string& client_key, const frame& f);
  bool admit_node_frame(const std::string& identity, const std::string& client_key, const frame& f);
  void answer_zap();
  result<void> load_operator_credentials();
  void on_node_frame(const std::string& identity, const frame& f);
  void on_admin(const std::string& identity, const admin_msg& m);
  void receive_all();
  void flush_events();
  void persist(const farm_event& e);
  void turn();
};

namespace {

// Which lease a frame is about, for error replies.
std::uint64_t lease_of(const message& body) {
  return std::visit(
      [](const auto& m) -> std::uint64_t {
        if constexpr (requires { m.lease; }) {
          return m.lease;
        } else {
          return 0;
        }
      },
      body);
}

// Routing ids are libzmq's binary ids: hex in the log.
std::string peer_label(const std::string& identity) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : identity.substr(0, 16)) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

}  // namespace

void coordinator::impl::send(const std::string& identity, const frame& f) {
  auto text = encode_frame(f);
  try {
    // Never block the loop on a slow or vanished peer: drop and let the TTL rules act.
    if (!router.send(zmq::buffer(identity), zmq::send_flags::sndmore | zmq::send_flags::dontwait) ||
        !router.send(zmq::buffer(text), zmq::send_flags::dontwait)) {
      log::warn("farm", "frame dropped: peer not keeping up", {{"peer", peer_label(identity)}});
    }
  } catch (const zmq::error_t& e) {
    log::debug("farm", "frame not delivered",
               {{"peer", peer_label(identity)}, {"error", e.what()}});
  }
}

void coordinator::impl::send_to_node(const std::string& node_id, const frame& f) {
  auto route = routes.find(node_id);
  if (route == routes.end()) {
    log::debug("farm", "no connection for node; frame dropped", {{"node", node_id}});
    return;
  }
  send(route->second, f);
}

void coordinator::impl::send_error(const std::string& identity, const std::string& node,
                                   const error& e, const std::string& about, std::uint64_t lease) {
  manager->count_protocol_error();
  log::warn(
      "farm", "frame refused",
      {{"node", node}, {"peer", peer_label(identity)}, {"about", about}, {"error", e.full_text()}});
  send(identity, frame{node, error_msg{std::string(e.code_name()), e.message(), about, lease}});
}

void coordinator::impl::on_bytes(const std::string& identity, const std::string& client_key,
                                 std::string_view bytes) {
  std::string type;
  auto f = decode_frame(bytes, &type);
  if (!f) {
    std::string node;
    if (type == "register" && f.error().is(farm_errc::unsupported_version)) {
      log::warn("farm", "node refused",
                {{"peer", peer_label(identity)}, {"reason", f.error().message()}});
      send(identity, frame{node, refused_msg{f.error().message(), protocol_version}});
      return;
    }
    send_error(identity, node, f.error(), type.substr(0, 32), 0);
    return;
  }
  on_frame(identity, client_key, *f);
}

void coordinator::impl::on_frame(const std::string& identity, const std::string& client_key,
                                 const frame& f) {
  if (const auto* admin = std::get_if<admin_msg>(&f.body)) {
    auto peer = auth->find(client_key);
    if (!peer || peer->role != farm_peer::kind::operator_tool) {
      send_error(identity, "",
                 error(farm_errc::forbidden, "admin frames are accepted only from operator keys"),
                 "admin", 0);
      return;
    }
    on_admin(identity, *admin);
    return;
  }
  if (!admit_node_frame(identity, client_key, f)) {
    return;
  }
  routes[f.node] = identity;  // replies and offers go to this connection
  on_node_frame(identity, f);
}

// Only an enrolled node key speaks node frames, and only for its own node id
// (the frame's `node`). A join token's bootstrap key may send one thing:
// `enroll`.
bool coordinator::impl::admit_node_frame(const std::string& identity, const std::string& client_key,
                                         const frame& f) {
  auto peer = auth->find(client_key);
  if (const auto* e = std::get_if<enroll_msg>(&f.body)) {
    if (!peer || peer->role != farm_peer::kind::bootstrap) {
      send_error(identity, "",
                 error(farm_errc::forbidden, "enroll is accepted only with a join token's key"),
                 "enroll", 0);
      return false;
    }
    if (f.node.empty()) {
      send_error(identity, "",
                 error(farm_errc::invalid_field, "enroll: field \"node\" names the node id"),
                 "enroll", 0);
      return false;
    }
    if (auto enrolled = auth->enroll_node(client_key, e->public_key, f.node); !enrolled) {
      log::warn("farm", "enrolment refused",
                {{"node", f.node}, {"error", enrolled.error().full_text()}});
      manager->count_protocol_error();
      send(identity, frame{f.node, refused_msg{enrolled.error().message(), protocol_version}});
    } else {
      send(identity, frame{f.node, enrolled_msg{}});
    }
    return false;
  }
  if (!peer || peer->role != farm_peer::kind::node) {
    send_error(identity, "",
               error(farm_errc::forbidden, "node frames are accepted only from enrolled node keys"),
               type_name(f.body), lease_of(f.body));
    return false;
  }
  if (peer->node_id != f.node) {
    log::warn("farm", "a node key spoke for another node id",
              {{"node", f.node}, {"enrolled_as", peer->node_id}});
    send_error(identity, "",
               error(farm_errc::forbidden,
                     "this key is enrolled for node " + peer->node_id + ", not " + f.node),
               type_name(f.body), lease_of(f.body));
    return false;
  }
  return true;
}

void coordinator::impl::on_node_frame(const std::string& identity, const frame& f) {
  const auto& id = f.node;
  auto& m = *manager;
  result<void> r = ok();
  if (const auto* reg = std::get_if<register_msg>(&f.body)) {
    node_spec spec{id,        reg->hostname,  reg->gpus, reg->slots, reg->backends,
                   reg->tags, reg->references};
    r = m.register_node(spec, reg->leases);
    if (r) {
      log::info("farm", "node registered",
                {{"node", id}, {"host", reg->hostname}, {"slots", reg->slots}});
      send(identity,
           frame{id, registered_msg{options.timing.heartbeat.count(), options.timing.ttl.count()}});
      if (auto v = m.node(id); v && store) {
        (void)store->save_node(*v, true);
      }
    }
  } else if (const auto* hb = std::get_if<heartbeat_msg>(&f.body)) {
    r = m.heartbeat(id, hb->leases);
    if (r) {
      send(identity, frame{id, heartbeat_msg{hb->seq, 0, {}}});
    }
  } else if (const auto* a = std::get_if<lease_accept_msg>(&f.body)) {
    r = m.accept(id, *a);
  } else if (const auto* rj = std::get_if<lease_reject_msg>(&f.body)) {
    r = m.reject(id, *rj);
  } else if (const auto* p = std::get_if<progress_msg>(&f.body)) {
    r = m.progress(id, *p);
  } else if (const auto* d = std::get_if<done_msg>(&f.body)) {
    r = m.complete(id, *d);
  } else if (const auto* fl = std::get_if<failed_msg>(&f.body)) {
    r = m.fail(id, *fl);
  } else if (const auto* cc = std::get_if<cancel_confirmed_msg>(&f.body)) {
    r = m.cancel_confirmed(id, *cc);
  } else if (const auto* dr = std::get_if<drain_msg>(&f.body)) {
    r = m.drain(id, dr->drain, lease_manager::drained_by::node_itself);
  } else if (std::holds_alternative<error_msg>(f.body)) {
    const auto& e = std::get<error_msg>(f.body);
    log::warn("farm", "node reports an error",
              {{"node", id}, {"code", e.code}, {"message", e.message}});
  } else {
    r = error(farm_errc::out_of_order,
              std::string("a node may not send ") + type_name(f.body) + " frames");
  }
  if (!r) {
    send_error(identity, id, r.error(), type_name(f.body), lease_of(f.body));
  }
}

void coordinator::impl::on_admin(const std::string& identity, const admin_msg& a) {
  auto& m = *manager;
  result<void> r = ok();
  std::string body = "null";
  if (a.command == "list") {
    body = nodes_json(m.nodes());
  } else if (a.command == "drain" || a.command == "undrain") {
    r = m.drain(a.target, a.command == "drain");
  } else if (a.command == "remove") {
    r = m.remove_node(a.target);
    if (r && store) {
      (void)store->remove_node(a.target);
    }
  } else if (a.command == "token") {
    // target: the token's life in seconds (empty: one hour).
    std::chrono::seconds ttl{3600};
    if (!a.target.empty()) {
      try {
        ttl = std::chrono::seconds(std::stoll(a.target));
      } catch (const std::exception&) {
        ttl = std::chrono::seconds(-1);
      }
    }
    auto token = auth->create_token(ttl);
    if (token) {
      body = nlohmann::json{{"token", *token}, {"expires_in", ttl.count()}}.dump();
    } else {
      r = token.error();
    }
  } else if (a.command == "revoke") {
    r = auth->revoke_node(a.target);
    if (r) {
      routes.erase(a.target);
      // Its leases go back to the queue now, not after the TTL.
      (void)m.remove_node(a.target);
      if (store) {
        (void)store->remove_node(a.target);
      }
    }
  } else {
    r = error(farm_errc::invalid_argument, "unknown admin command \"" + a.command + "\"");
  }
  // `list` is asked at every render submit (the backends on offer): debug.
  (a.command == "list" ? log::debug : log::info)(
      "farm", "admin command", {{"command", a.command}, {"target", a.target}, {"ok", bool(r)}});
  send(identity, frame{"", admin_reply_msg{bool(r), r ? "" : r.error().message(), body}});
}

// One ZAP request (RFC 27): version, request id, domain, address, routing
// id, mechanism, client key. The reply's user id is the client key in Z85,
// which every frame from that connection then carries as "User-Id".
void coordinator::impl::answer_zap() {
  for (;;) {
    std::vector<zmq::message_t> parts;
    zmq::message_t part;
    if (!zap.recv(part, zmq::recv_flags::dontwait)) {
      return;
    }
    parts.push_back(std::move(part));
    while (zap.get(zmq::sockopt::rcvmore)) {
      zmq::message_t more;
      (void)zap.recv(more, zmq::recv_flags::none);
      parts.push_back(std::move(more));
    }
    std::string version = parts.size() > 0 ? parts[0].to_string() : "";
    std::string request_id = parts.size() > 1 ? parts[1].to_string() : "";
    std::string address = parts.size() > 3 ? parts[3].to_string() : "";
    std::string mechanism = parts.size() > 5 ? parts[5].to_string() : "";
    std::string key = parts.size() > 6 ? curve_key_from_binary(parts[6].to_string_view()) : "";
    handshake_verdict verdict;
    if (version != "1.0" || mechanism != "CURVE" || key.empty()) {
      verdict = {false, "the farm socket accepts CURVE clients only"};
    } else {
      verdict = auth->check_handshake(key);
    }
    if (!verdict.allowed) {
      manager->count_protocol_error();
      log::warn("farm", "connection refused", {{"address", address}, {"reason", verdict.reason}});
    }
    const std::string status = verdict.allowed ? "200" : "400";
    const std::string text = verdict.allowed ? "OK" : verdict.reason;
    const std::string user = verdict.allowed ? key : "";
    zap.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(status), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(text), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(user), zmq::send_flags::sndmore);
    zap.send(zmq::buffer(std::string()), zmq::send_flags::none);
  }
}

void coordinator::impl::receive_all() {
  zmq::pollitem_t items[] = {{router.handle(), 0, ZMQ_POLLIN, 0}, {zap.handle(), 0, ZMQ_POLLIN, 0}};
  try {
    zmq::poll(items, 2, options.poll);
  } catch (const zmq::error_t& e) {
    // A signal (SIGTERM: stop) interrupted the poll; the caller looks at
    // its stop condition next.
    if (e.num() != EINTR) {
      throw;
    }
    return;
  }
  answer_zap();
  // Bounded per turn so timers and outgoing frames are never starved.
  for (int i = 0; i < 10000; ++i) {
    zmq::message_t identity;
    if (!router.recv(identity, zmq::recv_flags::dontwait)) {
      return;
    }
    zmq::message_t payload;
    int parts = 0;
    std::string first;
    std::string client_key;
    while (router.get(zmq::sockopt::rcvmore)) {
      (void)router.recv(payload, zmq::recv_flags::none);
      if (++parts == 1) {
        first.assign(static_cast<const char*>(payload.data()), payload.size());
        // Set by our ZAP handler for this connection: the client's public key.
        const char* user = zmq_msg_gets(payload.handle(), "User-Id");
        client_key = user != nullptr ? user : "";
      }
    }
    auto id = identity.to_string();
    if (parts != 1) {
      send_error(id, "",
                 error(farm_errc::malformed_frame, "a frame must be exactly one message part"), "",
                 0);
      continue;
    }
    on_bytes(id, client_key, first);
  }
}

void coordinator::impl::persist(const farm_event& e) {
  if (!store) {
    return;
  }
  result<void> r = ok();
  if (const auto* o = std::get_if<offer_event>(&e)) {
    r = store->lease_offered(*o, o->offer.job);
  } else if (const auto* l = std::get_if<lease_ended_event>(&e)) {
    r = store->lease_ended(*l);
  } else if (const auto* n = std::get_if<node_changed_event>(&e)) {
    if (auto v = manager->node(n->node_id)) {
      r = store->save_node(*v, false);
    }
  } else if (const auto* s = std::get_if<shot_outcome>(&e); s && s->status == shot_status::done) {
    r = store->shot_done(*s);
  }
  if (!r) {
    log::error("farm", "persistence failed", {{"error", r.error().full_text()}});
  }
}

void coordinator::impl::flush_events() {
  for (auto& e : manager->take_events()) {
    persist(e);
    metrics.on_event(e);
    if (auto* o = std::get_if<offer_event>(&e)) {
      send_to_node(o->node_id, frame{o->node_id, o->offer});
    } else if (auto* c = std::get_if<cancel_event>(&e)) {
      send_to_node(c->node_id, frame{c->node_id, c->cancel});
    } else if (auto* d = std::get_if<drain_event>(&e)) {
      send_to_node(d->node_id, frame{d->node_id, drain_msg{d->drain, "operator"}});
    } else if (auto* s = std::get_if<shot_outcome>(&e)) {
      log::info("farm", "shot finished",
                {{"shot", s->shot_id}, {"lease", s->lease}, {"node", s->node_id}});
      std::lock_guard lock(mutex);
      outcomes.push_back(std::move(*s));
    }
  }
}

void coordinator::impl::turn() {
  std::vector<std::function<void(lease_manager&)>> work;
  {
    std::lock_guard lock(mutex);
    work.swap(inbox);
  }
  for (auto& fn : work) {
    fn(*manager);
  }
  receive_all();
  manager->tick();
  manager->schedule();
  flush_events();
  metrics.refresh(*manager);
  std::lock_guard lock(mutex);
  probe_copy = manager->probe();
}

// The operator key is the farm's (farm_auth). A copy goes to
// options.operator_key_file for `reelfarm ctl nodes` on this machine; not
// being able to write it costs only that convenience, so it is a warning.
result<void> coordinator::impl::load_operator_credentials() {
  operator_credentials = auth->operator_credentials();
  const auto& file = options.operator_key_file;
  if (file.empty()) {
    return ok();
  }
  auto kept = read_farm_credentials(file);
  if (kept && kept->client.public_key == operator_credentials.client.public_key &&
      kept->server_public_key == operator_credentials.server_public_key) {
    return ok();
  }
  if (auto written = write_farm_credentials(file, operator_credentials); !written) {
    log::warn("farm", "cannot write the operator key file; `reelfarm ctl nodes` needs a copy",
              {{"file", file.string()}, {"error", written.error().message()}});
  } else {
    log::info("farm", "operator key written", {{"file", file.string()}});
  }
  return ok();
}

coordinator::coordinator(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
coordinator::~coordinator() = default;

result<std::unique_ptr<coordinator>> coordinator::create(coordinator_options options) {
  auto s = std::make_unique<impl>();
  s->options = std::move(options);
  epoch_allocator* epochs = &s->memory_epochs;
  if (!s->options.postgres_dsn.empty()) {
    auto store = farm_store::open(s->options.postgres_dsn);
    if (!store) {
      return store.error();
    }
    s->store = std::move(store).value();
    auto expired = s->store->expire_open_leases();
    if (!expired) {
      return expired.error();
    }
    epochs = s->store.get();
  }
  s->manager = std::make_unique<lease_manager>(s->clock, *epochs, s->options.timing);
  auto auth = farm_auth::open(s->options.postgres_dsn);
  if (!auth) {
    return auth.error();
  }
  s->auth = std::move(auth).value();
  if (auto op = s->load_operator_credentials(); !op) {
    return op.error();
  }
  try {
    s->zap.set(zmq::sockopt::linger, 0);
    s->zap.bind("inproc://zeromq.zap.01");
    s->router.set(zmq::sockopt::curve_server, true);
    s->router.set(zmq::sockopt::curve_secretkey, s->auth->server_keys().secret_key);
    s->router.set(zmq::sockopt::zap_domain, "reelfarm-farm");
    s->router.set(zmq::sockopt::linger, 0);
    s->router.set(zmq::sockopt::router_mandatory, 1);
    // Routing ids are libzmq's (nodes set none), and a node is addressed
    // through the connection its last authenticated frame came on (routes).
    // Keepalive and TCP_MAXRT close connections whose peer vanished.
    s->router.set(zmq::sockopt::tcp_keepalive, 1);
    s->router.set(zmq::sockopt::tcp_keepalive_idle, 10);
    s->router.set(zmq::sockopt::tcp_keepalive_intvl, 5);
    s->router.set(zmq::sockopt::tcp_keepalive_cnt, 3);
    s->router.set(zmq::sockopt::tcp_maxrt, 30000);
    // Anything far beyond a frame is cut off by ZeroMQ before it reaches memory.
    s->router.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(16 * max_frame_bytes));
    s->router.bind(s->options.bind);
    s->endpoint = s->router.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return error(farm_errc::transport, "cannot bind " + s->options.bind + ": " + e.what());
  }
  log::info("farm", "coordinator listening", {{"bind", s->endpoint}});
  return std::unique_ptr<coordinator>(new coordinator(std::move(s)));
}

void coordinator::run(const std::function<bool()>& stop) {
  while (!stop()) {
    impl_->turn();
  }
}

const std::string& coordinator::endpoint() const noexcept {
  return impl_->endpoint;
}

result<std::string> coordinator::create_join_token(std::chrono::seconds ttl) {
  return impl_->auth->create_token(ttl);
}

const farm_credentials& coordinator::operator_credentials() const noexcept {
  return impl_->operator_credentials;
}

void coordinator::post(std::function<void(lease_manager&)> fn) {
  std::lock_guard lock(impl_->mutex);
  impl_->inbox.push_back(std::move(fn));
}

void coordinator::submit(shot_request shot) {
  post([shot = std::move(shot), state = impl_.get(),
        at = std::chrono::steady_clock::now()](lease_manager& m) mutable {
    auto id = shot.shot_id;
    if (auto r = m.submit(std::move(shot)); !r) {
      log::warn("farm", "shot refused", {{"shot", id}, {"error", r.error().full_text()}});
    } else {
      state->metrics.shot_queued(id, at);
    }
  });
}

void coordinator::cancel(std::string shot_id) {
  post([shot_id = std::move(shot_id)](lease_manager& m) { (void)m.cancel_shot(shot_id); });
}

std::vector<shot_outcome> coordinator::take_outcomes() {
  std::lock_guard lock(impl_->mutex);
  std::vector<shot_outcome> out;
  out.swap(impl_->outcomes);
  return out;
}

farm_probe coordinator::probe() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->probe_copy;
}

}  // namespace reelfarm::farm
