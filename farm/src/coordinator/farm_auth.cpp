#include "src/coordinator/farm_auth.hpp"

#include <sodium.h>

#include <pqxx/pqxx>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/errc.hpp"
#include "reelfarm/store/postgres.hpp"

namespace reelfarm::farm {
namespace {

constexpr auto longest_token_life = std::chrono::hours(24 * 7);

error db_error(const char* what, const std::exception& e) {
  return error(farm_errc::persistence, std::string(what) + ": " + e.what());
}

farm_peer::kind role_of(const std::string& text) {
  return text == "operator" ? farm_peer::kind::operator_tool : farm_peer::kind::node;
}

}  // namespace

result<std::unique_ptr<farm_auth>> farm_auth::open(const std::string& dsn) {
  if (!curve_available()) {
    return error(farm_errc::transport,
                 "this libzmq has no CURVE support; the farm socket cannot be authenticated");
  }
  std::unique_ptr<farm_auth> auth(new farm_auth());
  auth->dsn_ = dsn;
  auto keys = generate_curve_keypair();
  auto operator_keys = generate_curve_keypair();
  if (!keys || !operator_keys) {
    return !keys ? keys.error() : operator_keys.error();
  }
  if (dsn.empty()) {
    auth->server_ = *keys;
    auth->operator_ = {*operator_keys, keys->public_key, keys->public_key};
    auth->peers_[operator_keys->public_key] = {farm_peer::kind::operator_tool, "", false};
    return auth;
  }
  auto conn = connect_postgres(dsn);
  if (!conn) {
    return conn.error();
  }
  auth->conn_ = std::move(conn).value();
  try {
    pqxx::work tx(*auth->conn_);
    // Two coordinators starting at once agree on one key: the first insert wins.
    tx.exec_params(
        "INSERT INTO farm_server_key (public_key, secret_key) VALUES ($1, $2) "
        "ON CONFLICT (singleton) DO NOTHING",
        keys->public_key, keys->secret_key);
    auto key = tx.exec1("SELECT public_key, secret_key FROM farm_server_key");
    auth->server_ = {key[0].as<std::string>(), key[1].as<std::string>()};
    tx.exec_params(
        "INSERT INTO farm_operator_key (public_key, secret_key) VALUES ($1, $2) "
        "ON CONFLICT (singleton) DO NOTHING",
        operator_keys->public_key, operator_keys->secret_key);
    auto op = tx.exec1("SELECT public_key, secret_key FROM farm_operator_key");
    auth->operator_ = {{op[0].as<std::string>(), op[1].as<std::string>()},
                       auth->server_.public_key,
                       auth->server_.public_key};
    tx.exec_params(
        "INSERT INTO farm_peers (public_key, role) VALUES ($1, 'operator') "
        "ON CONFLICT (public_key) DO NOTHING",
        auth->operator_.client.public_key);
    for (const auto& row :
         tx.exec("SELECT public_key, role, coalesce(node_id, ''), revoked_at IS NOT NULL "
                 "FROM farm_peers")) {
      auth->peers_[row[0].as<std::string>()] = {role_of(row[1].as<std::string>()),
                                                row[2].as<std::string>(), row[3].as<bool>()};
    }
    for (const auto& row : tx.exec("SELECT public_key, extract(epoch FROM expires_at)::bigint "
                                   "FROM farm_join_tokens WHERE expires_at > now()")) {
      auth->tokens_[row[0].as<std::string>()] =
          std::chrono::system_clock::time_point(std::chrono::seconds(row[1].as<std::int64_t>()));
    }
    tx.commit();
  } catch (const std::exception& e) {
    return db_error("cannot load the farm's keys", e);
  }
  if (!valid_curve_key(auth->server_.public_key) || !valid_curve_key(auth->server_.secret_key)) {
    return error(farm_errc::persistence, "the farm_server_key row does not hold CURVE keys");
  }
  return auth;
}

result<void> farm_auth::persist(const char* what, const std::function<void(pqxx::work&)>& body) {
  if (dsn_.empty()) {
    return ok();
  }
  std::lock_guard lock(db_mutex_);  // one connection, used by one thread at a time
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      if (!conn_ || !conn_->is_open()) {
        auto conn = connect_postgres(dsn_);
        if (!conn) {
          return conn.error();
        }
        conn_ = std::move(conn).value();
      }
      pqxx::work tx(*conn_);
      body(tx);
      tx.commit();
      return ok();
    } catch (const pqxx::broken_connection& e) {
      conn_.reset();  // the server restarted: one more try on a new connection
      if (attempt == 1) {
        return db_error(what, e);
      }
    } catch (const std::exception& e) {
      return db_error(what, e);
    }
  }
  return ok();
}

handshake_verdict farm_auth::check_handshake(std::string_view client_key) {
  std::lock_guard lock(mutex_);
  const std::string key(client_key);
  if (auto it = peers_.find(key); it != peers_.end()) {
    if (it->second.revoked) {
      return {false, "this key was revoked"};
    }
    return {true, ""};
  }
  if (auto t = tokens_.find(key); t != tokens_.end()) {
    if (t->second > std::chrono::system_clock::now()) {
      return {true, ""};
    }
    return {false, "the join token expired"};
  }
  return {false, "the key is not enrolled"};
}

std::optional<farm_peer> farm_auth::find(std::string_view client_key) {
  std::lock_guard lock(mutex_);
  const std::string key(client_key);
  if (auto it = peers_.find(key); it != peers_.end() && !it->second.revoked) {
    return it->second;
  }
  if (auto t = tokens_.find(key);
      t != tokens_.end() && t->second > std::chrono::system_clock::now()) {
    return farm_peer{farm_peer::kind::bootstrap, "", false};
  }
  return std::nullopt;
}

result<void> farm_auth::enroll_node(std::string_view token_key, const std::string& node_key,
                                    const std::string& node_id) {
  std::lock_guard lock(mutex_);
  auto t = tokens_.find(std::string(token_key));
  if (t == tokens_.end() || t->second <= std::chrono::system_clock::now()) {
    return error(farm_errc::invalid_token,
                 "the join token is unknown or expired; ask the operator for a new one "
                 "(`reelfarm ctl nodes token`)");
  }
  if (node_key == server_.public_key || tokens_.count(node_key) != 0) {
    return error(farm_errc::invalid_argument, "that key cannot be a node's key");
  }
  if (auto known = peers_.find(node_key); known != peers_.end()) {
    const auto& peer = known->second;
    if (!peer.revoked && peer.role == farm_peer::kind::node && peer.node_id == node_id) {
      return ok();  // asked again: the answer was lost
    }
    return error(farm_errc::not_enrolled,
                 peer.revoked ? "this node's key was revoked and cannot be enrolled again "
                                "(delete the node folder's farm-credentials.json to make a new "
                                "key)"
                              : "this key is already enrolled for another node or role");
  }
  for (const auto& [other, peer] : peers_) {
    if (peer.role == farm_peer::kind::node && !peer.revoked && peer.node_id == node_id) {
      return error(farm_errc::not_enrolled,
                   "node id " + node_id +
                       " is enrolled with another key; revoke it first (`reelfarm ctl nodes "
                       "revoke " +
                       node_id + "`)");
    }
  }
  auto saved = persist("cannot enrol the node", [&](pqxx::work& tx) {
    tx.exec_params("INSERT INTO farm_peers (public_key, role, node_id) VALUES ($1, 'node', $2)",
                   node_key, node_id);
    tx.exec_params("UPDATE farm_join_tokens SET enrolments = enrolments + 1 WHERE public_key = $1",
                   std::string(token_key));
  });
  if (!saved) {
    return saved.error();
  }
  peers_[node_key] = {farm_peer::kind::node, node_id, false};
  log::info("farm", "node enrolled", {{"node", node_id}});
  return ok();
}

result<std::string> farm_auth::create_token(std::chrono::seconds ttl) {
  if (ttl <= std::chrono::seconds(0) || ttl > longest_token_life) {
    return error(farm_errc::invalid_argument, "a join token lives 1 second to 7 days; asked for " +
                                                  std::to_string(ttl.count()) + " s");
  }
  auto bootstrap = generate_curve_keypair();
  if (!bootstrap) {
    return bootstrap.error();
  }
  auto expires = std::chrono::system_clock::now() + ttl;
  // Written before the lock is taken: the loop's handshake and frame checks
  // never wait for this thread's database round trip.
  auto saved = persist("cannot store the join token", [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO farm_join_tokens (public_key, expires_at) "
        "VALUES ($1, now() + make_interval(secs => $2))",
        bootstrap->public_key, static_cast<double>(ttl.count()));
    tx.exec("DELETE FROM farm_join_tokens WHERE expires_at < now() - interval '7 days'");
  });
  if (!saved) {
    return saved.error();
  }
  std::lock_guard lock(mutex_);
  tokens_[bootstrap->public_key] = expires;
  std::erase_if(
      tokens_, [now = std::chrono::system_clock::now()](const auto& t) { return t.second <= now; });
  log::info("farm", "join token created", {{"ttl_s", ttl.count()}});
  // Only the public half is kept: the token's holder has the secret.
  return format_join_token({server_.public_key, *bootstrap});
}

result<void> farm_auth::revoke_node(const std::string& node_id) {
  std::lock_guard lock(mutex_);
  std::string key;
  for (const auto& [k, peer] : peers_) {
    if (peer.role == farm_peer::kind::node && !peer.revoked && peer.node_id == node_id) {
      key = k;
    }
  }
  if (key.empty()) {
    return error(farm_errc::unknown_node, "no enrolled key for node " + node_id);
  }
  auto saved = persist("cannot revoke the node's key", [&](pqxx::work& tx) {
    tx.exec_params("UPDATE farm_peers SET revoked_at = now() WHERE public_key = $1", key);
  });
  if (!saved) {
    return saved.error();
  }
  peers_[key].revoked = true;
  log::info("farm", "node key revoked", {{"node", node_id}});
  return ok();
}

}  // namespace reelfarm::farm
