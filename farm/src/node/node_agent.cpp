// The node agent: one CURVE DEALER socket (its frames name the node id; the
// routing id is libzmq's), a worker thread per running lease, and a single
// loop that owns the socket.
// Workers hand their frames to the loop through a mutex-guarded outbox.
#include "reelfarm/farm/node/node_agent.hpp"

#include <sys/eventfd.h>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <zmq.hpp>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/node/animatic_backend.hpp"
#include "reelfarm/farm/node/exec_backend.hpp"
#include "reelfarm/farm/node/node_host.hpp"
#include "reelfarm/farm/node/node_metrics.hpp"
#include "reelfarm/farm/protocol/codec.hpp"

namespace reelfarm::farm {
namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct running_lease {
  std::string shot;
  std::atomic<bool> cancel{false};
  std::atomic<bool> finished{false};
  std::thread worker;
};

result<std::vector<std::unique_ptr<render_backend>>> make_backends(
    const node_agent_options& options, const std::filesystem::path& media_dir) {
  std::vector<std::unique_ptr<render_backend>> out;
  for (const auto& spec : options.backends) {
    if (spec == "animatic") {  // the built-in renderer, in-process
      out.push_back(std::make_unique<animatic_backend>(media_dir));
      continue;
    }
    if (is_provider_kind(spec.substr(0, spec.find_first_of("=,")))) {
      auto settings = parse_provider_spec(spec, options.providers);
      if (!settings) {
        return settings.error();
      }
      settings->media_dir = media_dir;
      settings->cache_dir = options.data_dir / "cache" / "references";
      auto backend = make_provider_backend(std::move(settings).value());
      if (!backend) {
        return backend.error();
      }
      log::info("node", "provider backend", {{"name", (*backend)->name()}});
      out.push_back(std::move(backend).value());
      continue;
    }
    auto eq = spec.find('=');
    std::string name = eq == std::string::npos ? "exec" : spec.substr(0, eq);
    std::string how = eq == std::string::npos ? spec : spec.substr(eq + 1);
    if (!how.starts_with("exec:") || how.size() <= 5 || name.empty()) {
      return error(
          farm_errc::invalid_argument,
          "--backend takes animatic or [NAME=]exec:/path/to/program; got \"" + spec + "\"");
    }
    out.push_back(std::make_unique<exec_backend>(name, how.substr(5)));
  }
  return out;
}

class node_agent {
 public:
  node_agent(const node_agent_options& o, std::string id, farm_credentials credentials,
             std::vector<gpu_info> gpus, std::vector<std::unique_ptr<render_backend>> backends)
      : options_(o),
        id_(std::move(id)),
        credentials_(std::move(credentials)),
        gpus_(std::move(gpus)),
        backends_(std::move(backends)) {
    slots_ = o.slots > 0 ? o.slots : std::max<int>(1, static_cast<int>(gpus_.size()));
    metrics_ = std::make_unique<node_metrics>(id_, slots_, o.gpus != "none");
  }
  ~node_agent() {
    if (wake_fd_ >= 0) {
      ::close(wake_fd_);
    }
  }
  node_agent(const node_agent&) = delete;
  node_agent& operator=(const node_agent&) = delete;

  int run(const std::function<bool()>& stop);

 private:
  void connect();
  void check_handshake_failures();
  void send(message body);
  void send_register();
  void on_frame(const frame& f);
  void on_offer(const lease_offer_msg& offer);
  void on_cancel(const cancel_msg& c);
  void start_lease(const lease_offer_msg& offer, render_backend& backend);
  void work(std::uint64_t lease, lease_offer_msg offer, render_backend* backend);
  void post(message body);
  void flush_outbox();
  void reap_finished();
  void heartbeat_if_due();
  std::vector<held_lease> held() const;
  render_backend* backend_named(const std::string& name);
  void shut_down();

  node_agent_options options_;
  std::string id_;
  farm_credentials credentials_;
  std::vector<gpu_info> gpus_;
  std::vector<std::unique_ptr<render_backend>> backends_;
  int slots_ = 1;
  zmq::context_t context_{1};
  std::unique_ptr<zmq::socket_t> dealer_;
  std::unique_ptr<zmq::socket_t> monitor_;  ///< CURVE handshake failures (after context_)
  bool registered_ = false;
  bool draining_ = false;
  bool refused_ = false;
  int connects_ = 0;
  std::chrono::milliseconds heartbeat_{1000};
  std::chrono::milliseconds ttl_{5000};
  clock_type::time_point last_register_{};
  clock_type::time_point last_heartbeat_{};
  clock_type::time_point last_heard_{};
  std::uint64_t seq_ = 0;
  std::map<std::uint64_t, std::unique_ptr<running_lease>> leases_;
  std::mutex outbox_mutex_;
  std::vector<message> outbox_;
  std::unique_ptr<node_metrics> metrics_;  ///< thread-safe; workers report to it
  // Render threads wake the agent loop when they post a frame, so a result
  // leaves at once instead of at the loop's next 50 ms poll (that wait was
  // most of the farm's per-shot overhead).
  int wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
};

void node_agent::connect() {
  monitor_.reset();
  dealer_.reset();
  dealer_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  dealer_->set(zmq::sockopt::linger, 0);
  dealer_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_frame_bytes));
  dealer_->set(zmq::sockopt::curve_serverkey, credentials_.server_public_key);
  dealer_->set(zmq::sockopt::curve_publickey, credentials_.client.public_key);
  dealer_->set(zmq::sockopt::curve_secretkey, credentials_.client.secret_key);
  // A refused handshake is silent on the socket (ZeroMQ just retries):
  // the monitor tells us, so the operator reads why instead of waiting.
  auto monitor_at = "inproc://node-monitor-" + std::to_string(++connects_);
  if (zmq_socket_monitor(dealer_->handle(), monitor_at.c_str(),
                         ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) ==
      0) {
    monitor_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pair);
    monitor_->connect(monitor_at);
  }
  dealer_->connect(options_.join);
}

void node_agent::check_handshake_failures() {
  if (!monitor_) {
    return;
  }
  zmq::message_t event;
  while (monitor_->recv(event, zmq::recv_flags::dontwait)) {
    zmq::message_t address;
    if (monitor_->get(zmq::sockopt::rcvmore)) {
      (void)monitor_->recv(address, zmq::recv_flags::none);
    }
    if (event.size() < 6) {
      continue;
    }
    std::uint16_t what = 0;
    std::uint32_t value = 0;
    std::memcpy(&what, event.data(), sizeof what);
    std::memcpy(&value, static_cast<const char*>(event.data()) + 2, sizeof value);
    if (what == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
      log::error("node",
                 "the coordinator refused this node's key (revoked?). To join again: delete "
                 "farm-credentials.json in the node folder and start the node with a new join "
                 "token (`reelfarm ctl nodes token`)",
                 {{"node", id_}, {"join", options_.join}, {"status", value}});
      refused_ = true;
    } else {
      log::error("node",
                 "the CURVE handshake with the coordinator failed: is the coordinator's key "
                 "in farm-credentials.json (from the join token) the one it uses now?",
                 {{"node", id_}, {"join", options_.join}});
      refused_ = true;
    }
  }
}

void node_agent::send(message body) {
  auto text = encode_frame(frame{id_, std::move(body)});
  // The coordinator may be down: never block, the next heartbeat will tell.
  (void)dealer_->send(zmq::buffer(text), zmq::send_flags::dontwait);
}

std::vector<held_lease> node_agent::held() const {
  std::vector<held_lease> out;
  for (const auto& [lease, run] : leases_) {
    out.push_back({lease, run->shot});
  }
  return out;
}

void node_agent::send_register() {
  std::vector<std::string> names;
  for (const auto& b : backends_) {
    names.push_back(b->name());
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  send(register_msg{host, gpus_, slots_, names, options_.tags, options_.references, held(),
                    "reelfarm-node/1"});
  last_register_ = clock_type::now();
}

render_backend* node_agent::backend_named(const std::string& name) {
  for (auto& b : backends_) {
    if (b->name() == name) {
      return b.get();
    }
  }
  return nullptr;
}

void node_agent::post(message body) {
  {
    std::lock_guard lock(outbox_mutex_);
    outbox_.push_back(std::move(body));
  }
  if (wake_fd_ >= 0) {
    std::uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
}

void node_agent::work(std::uint64_t lease, lease_offer_msg offer, render_backend* backend) {
  auto& run = *leases_.at(lease);  // the entry outlives the thread (joined before erase)
  render_job job{offer, options_.data_dir / "leases" / std::to_string(lease)};
  auto progress = [&](int percent, const std::string& step) {
    post(progress_msg{lease, offer.shot, percent, step});
  };
  auto started = clock_type::now();
  auto out = backend->run(job, progress, run.cancel);
  double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
  metrics_->lease_finished(offer.backend,
                           run.cancel ? "cancelled"
                           : out      ? "done"
                                      : "failed",
                           seconds);
  // Finished before the result is posted: when the result reaches the
  // coordinator and it offers the next shot, the slot is free here already.
  run.finished = true;
  if (run.cancel) {
    post(cancel_confirmed_msg{lease, offer.shot});
  } else if (out) {
    if (!out->provider_job.empty()) {
      log::info("node", "provider render done",
                {{"lease", lease},
                 {"shot", offer.shot},
                 {"backend", offer.backend},
                 {"provider_job", out->provider_job},
                 {"took_ms", out->took_ms},
                 {"billed_s", out->billed_s}});
    }
    post(done_msg{lease, offer.shot, out->artifact, out->checksum, out->duration_ms});
  } else {
    bool retryable = !out.error().is(farm_errc::invalid_argument);
    log::warn("node", "lease failed",
              {{"lease", lease},
               {"shot", offer.shot},
               {"backend", offer.backend},
               {"retryable", retryable},
               {"error", out.error().message()}});
    post(failed_msg{lease, offer.shot, out.error().message(), retryable});
  }
}

void node_agent::start_lease(const lease_offer_msg& offer, render_backend& backend) {
  auto dir = options_.data_dir / "leases" / std::to_string(offer.lease);
  render_job job{offer, dir};
  auto made = ensure_directory(dir, 0755);
  auto prepared = made ? backend.prepare(job) : made;
  if (!prepared) {
    send(lease_reject_msg{offer.lease, offer.shot, prepared.error().message()});
    return;
  }
  send(lease_accept_msg{offer.lease, offer.shot});
  auto run = std::make_unique<running_lease>();
  run->shot = offer.shot;
  auto& slot = leases_[offer.lease];
  slot = std::move(run);
  slot->worker = std::thread(&node_agent::work, this, offer.lease, offer, &backend);
  log::info("node", "lease accepted", {{"lease", offer.lease}, {"shot", offer.shot}});
}

void node_agent::on_offer(const lease_offer_msg& offer) {
  auto* backend = backend_named(offer.backend);
  std::string why = draining_                                    ? "node is draining"
                    : static_cast<int>(leases_.size()) >= slots_ ? "no free slot"
                    : backend == nullptr                         ? "backend not available"
                    : leases_.contains(offer.lease)              ? "lease already held"
                                                                 : "";
  if (!why.empty()) {
    send(lease_reject_msg{offer.lease, offer.shot, why});
    return;
  }
  start_lease(offer, *backend);
}

void node_agent::on_cancel(const cancel_msg& c) {
  auto it = leases_.find(c.lease);
  if (it == leases_.end()) {
    send(cancel_confirmed_msg{c.lease, c.shot});  // nothing runs: the slot is already free
    return;
  }
  log::info("node", "cancelling lease", {{"lease", c.lease}, {"shot", c.shot}});
  it->second->cancel = true;
}

void node_agent::on_frame(const frame& f) {
  last_heard_ = clock_type::now();
  if (const auto* r = std::get_if<registered_msg>(&f.body)) {
    registered_ = true;
    metrics_->set_connected(true);
    heartbeat_ = std::chrono::milliseconds(r->heartbeat_ms);
    ttl_ = std::chrono::milliseconds(r->ttl_ms);
    log::info("node", "registered", {{"node", id_}, {"coordinator", options_.join}});
  } else if (const auto* o = std::get_if<lease_offer_msg>(&f.body)) {
    on_offer(*o);
  } else if (const auto* c = std::get_if<cancel_msg>(&f.body)) {
    on_cancel(*c);
  } else if (const auto* d = std::get_if<drain_msg>(&f.body)) {
    draining_ = d->drain;
    log::info("node", d->drain ? "draining" : "undrained", {{"reason", d->reason}});
  } else if (const auto* rf = std::get_if<refused_msg>(&f.body)) {
    log::error("node", "coordinator refused this node", {{"reason", rf->reason}});
    refused_ = true;
  } else if (const auto* e = std::get_if<error_msg>(&f.body)) {
    log::warn("node", "coordinator reports an error",
              {{"code", e->code}, {"message", e->message}, {"about", e->about}});
    if (e->code == "forbidden") {
      // The key is enrolled for another node id (node-id file replaced?) or
      // was revoked while connected: nothing this node can fix by retrying.
      log::error("node", "the coordinator refuses this node's frames", {{"reason", e->message}});
      refused_ = true;
    }
    if (e->code == "unknown_node") {
      registered_ = false;  // the coordinator restarted or removed us: join again
      last_register_ = {};
    }
  }
}

void node_agent::flush_outbox() {
  std::vector<message> out;
  {
    std::lock_guard lock(outbox_mutex_);
    out.swap(outbox_);
  }
  for (auto& m : out) {
    send(std::move(m));
  }
}

void node_agent::reap_finished() {
  for (auto it = leases_.begin(); it != leases_.end();) {
    if (it->second->finished) {
      it->second->worker.join();
      it = leases_.erase(it);
    } else {
      ++it;
    }
  }
}

void node_agent::heartbeat_if_due() {
  auto now = clock_type::now();
  if (!registered_) {
    if (now - last_register_ >= 1s) {
      send_register();
    }
    return;
  }
  if (now - last_heard_ > ttl_) {
    // The coordinator is silent past the TTL: it may have restarted.
    log::warn("node", "coordinator silent; registering again");
    registered_ = false;
    metrics_->set_connected(false);
    last_heard_ = now;
    return;
  }
  if (now - last_heartbeat_ >= heartbeat_) {
    int free = std::max(0, slots_ - static_cast<int>(leases_.size()));
    send(heartbeat_msg{++seq_, free, held()});
    last_heartbeat_ = now;
  }
}

void node_agent::shut_down() {
  if (registered_) {
    send(drain_msg{true, "node shutting down"});
  }
  for (auto& [lease, run] : leases_) {
    run->cancel = true;
  }
  for (auto& [lease, run] : leases_) {
    run->worker.join();
  }
  for (const auto& [lease, run] : leases_) {
    send(failed_msg{lease, run->shot, "node shut down during the render", true});
  }
  leases_.clear();
}

int node_agent::run(const std::function<bool()>& stop) {
  try {
    connect();
  } catch (const zmq::error_t& e) {
    log::error("node", "cannot connect", {{"join", options_.join}, {"error", e.what()}});
    return 1;
  }
  log::info("node", "starting", {{"node", id_}, {"join", options_.join}, {"slots", slots_}});
  last_heard_ = clock_type::now();
  while (!stop() && !refused_) {
    // Results first, so a finished render is reported before anything else.
    flush_outbox();
    reap_finished();
    metrics_->set_slots_used(static_cast<int>(leases_.size()));
    heartbeat_if_due();
    zmq::pollitem_t items[] = {{dealer_->handle(), 0, ZMQ_POLLIN, 0},
                               {nullptr, wake_fd_, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, wake_fd_ >= 0 ? 2 : 1, std::chrono::milliseconds(50));
    } catch (const zmq::error_t& e) {
      // SIGTERM arriving during the poll (systemd, Kubernetes stopping the
      // node) is EINTR: a stop request, not a crash.
      if (e.num() != EINTR) {
        throw;
      }
      continue;
    }
    if ((items[1].revents & ZMQ_POLLIN) != 0) {
      std::uint64_t count = 0;
      (void)!::read(wake_fd_, &count, sizeof count);
    }
    check_handshake_failures();
    zmq::message_t msg;
    while (dealer_->recv(msg, zmq::recv_flags::dontwait)) {
      auto f = decode_frame(msg.to_string_view());
      if (!f) {
        log::warn("node", "bad frame from coordinator", {{"error", f.error().full_text()}});
        continue;
      }
      on_frame(*f);
    }
  }
  shut_down();
  flush_outbox();
  std::this_thread::sleep_for(100ms);  // let ZeroMQ hand the last frames over
  return refused_ ? 1 : 0;
}

}  // namespace

result<farm_credentials> node_credentials(const node_agent_options& options) {
  const auto file = options.data_dir / "farm-credentials.json";
  std::error_code ec;
  const bool kept = std::filesystem::exists(file, ec);
  farm_credentials credentials;
  if (kept) {
    auto old = read_farm_credentials(file);
    if (!old) {
      return old.error();
    }
    credentials = *old;
  }
  if (options.token.empty()) {
    if (!kept || credentials.enrolled_with != credentials.server_public_key) {
      return error(farm_errc::not_enrolled,
                   "this node has not joined a farm yet: start it with --token T (an operator "
                   "makes one with `reelfarm ctl nodes token`)");
    }
    return credentials;
  }
  auto token = parse_join_token(options.token);
  if (!token) {
    return token.error();
  }
  if (!kept) {
    // The new key is kept before it is offered for enrolment: a node that
    // dies after the coordinator enrolled it still has the key.
    auto keys = generate_curve_keypair();
    if (!keys) {
      return keys.error();
    }
    credentials.client = *keys;
    credentials.server_public_key = token->server_public_key;
    if (auto written = write_farm_credentials(file, credentials); !written) {
      return written.error();
    }
  }
  // The file keeps naming the farm the key is enrolled with until the new
  // one answers `enrolled`: a token of the wrong farm, or one that expired,
  // does not cost the node its place in its own farm.
  credentials.server_public_key = token->server_public_key;
  return credentials;
}

namespace {

// Reads one monitor event: true when it reports a refused handshake.
bool handshake_refused(zmq::socket_t& monitor, std::uint32_t* status) {
  zmq::message_t event;
  bool refused = false;
  while (monitor.recv(event, zmq::recv_flags::dontwait)) {
    zmq::message_t address;
    if (monitor.get(zmq::sockopt::rcvmore)) {
      (void)monitor.recv(address, zmq::recv_flags::none);
    }
    if (event.size() >= 6) {
      std::uint16_t what = 0;
      std::memcpy(&what, event.data(), sizeof what);
      std::memcpy(status, static_cast<const char*>(event.data()) + 2, sizeof *status);
      refused = refused || what == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
                what == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
    }
  }
  return refused;
}

result<void> enroll_over_zeromq(const node_agent_options& options, const std::string& node_id,
                                farm_credentials& credentials, const std::function<bool()>& stop);

result<void> enroll_node_key(const node_agent_options& options, const std::string& node_id,
                             farm_credentials& credentials, const std::function<bool()>& stop) {
  try {
    return enroll_over_zeromq(options, node_id, credentials, stop);
  } catch (const zmq::error_t& e) {
    return error(farm_errc::transport, "cannot reach " + options.join + ": " + e.what());
  }
}

result<void> enroll_over_zeromq(const node_agent_options& options, const std::string& node_id,
                                farm_credentials& credentials, const std::function<bool()>& stop) {
  auto token = parse_join_token(options.token);
  if (!token) {
    return token.error();
  }
  zmq::context_t context(1);
  zmq::socket_t dealer(context, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_frame_bytes));
  dealer.set(zmq::sockopt::curve_serverkey, token->server_public_key);
  dealer.set(zmq::sockopt::curve_publickey, token->bootstrap.public_key);
  dealer.set(zmq::sockopt::curve_secretkey, token->bootstrap.secret_key);
  zmq_socket_monitor(dealer.handle(), "inproc://enrol-monitor",
                     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
  zmq::socket_t monitor(context, zmq::socket_type::pair);
  monitor.connect("inproc://enrol-monitor");
  dealer.connect(options.join);
  log::info("node", "enrolling this node's key with a join token",
            {{"node", node_id}, {"join", options.join}});
  auto text = encode_frame(frame{node_id, enroll_msg{credentials.client.public_key}});
  auto next_send = clock_type::now();
  auto next_note = clock_type::now() + 10s;
  while (!stop()) {
    if (clock_type::now() >= next_send) {
      (void)dealer.send(zmq::buffer(text), zmq::send_flags::dontwait);
      next_send = clock_type::now() + 2s;  // the coordinator may not be up yet
    }
    zmq::pollitem_t items[] = {{dealer.handle(), 0, ZMQ_POLLIN, 0},
                               {monitor.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, 100ms);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) {
        throw;
      }
      continue;
    }
    std::uint32_t status = 0;
    if (handshake_refused(monitor, &status)) {
      return error(farm_errc::invalid_token,
                   "the coordinator refused the join token (expired, revoked, or made by "
                   "another farm); ask the operator for a new one (`reelfarm ctl nodes token`)");
    }
    zmq::message_t reply;
    while (dealer.recv(reply, zmq::recv_flags::dontwait)) {
      auto f = decode_frame(reply.to_string_view());
      if (!f) {
        continue;
      }
      if (std::holds_alternative<enrolled_msg>(f->body)) {
        credentials.enrolled_with = credentials.server_public_key;
        if (auto written =
                write_farm_credentials(options.data_dir / "farm-credentials.json", credentials);
            !written) {
          return written.error();
        }
        log::info("node", "key enrolled; the token is not needed any more", {{"node", node_id}});
        return ok();
      }
      if (const auto* rf = std::get_if<refused_msg>(&f->body)) {
        return error(farm_errc::not_enrolled, rf->reason);
      }
      if (const auto* e = std::get_if<error_msg>(&f->body)) {
        return error(farm_errc::not_enrolled, e->message);
      }
    }
    if (clock_type::now() >= next_note) {
      log::info("node", "waiting for the coordinator to answer the enrolment",
                {{"join", options.join}});
      next_note = clock_type::now() + 10s;
    }
  }
  return error(farm_errc::timeout, "stopped before the coordinator answered the enrolment");
}

}  // namespace

int run_node_agent(const node_agent_options& options, const std::function<bool()>& stop) {
  // Default media folder: next to the node folder, in the data dir.
  auto media_dir =
      !options.media_dir.empty() ? options.media_dir : options.data_dir.parent_path() / "media";
  auto backends = make_backends(options, media_dir);
  auto gpus = detect_gpus(options.gpus);
  auto id = load_or_create_node_id(options.data_dir);
  auto credentials = node_credentials(options);
  for (const auto* e : {backends ? nullptr : &backends.error(), gpus ? nullptr : &gpus.error(),
                        id ? nullptr : &id.error(), credentials ? nullptr : &credentials.error()}) {
    if (e != nullptr) {
      log::error("node", "cannot start", {{"error", e->full_text()}});
      return 2;
    }
  }
  if (!options.token.empty() && credentials->enrolled_with != credentials->server_public_key) {
    if (auto enrolled = enroll_node_key(options, *id, *credentials, stop); !enrolled) {
      log::error("node", "cannot join the farm", {{"error", enrolled.error().message()}});
      return 1;
    }
  }
  node_agent agent(options, *id, std::move(credentials).value(), std::move(gpus).value(),
                   std::move(backends).value());
  return agent.run(stop);
}

}  // namespace reelfarm::farm
