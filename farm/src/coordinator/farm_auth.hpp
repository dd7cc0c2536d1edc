#pragma once

// Who may speak on the farm socket (docs/protocol.md, "Authentication").
// Internal to the coordinator: the ZAP handler asks it at each CURVE
// handshake, the frame dispatcher at each frame, `ctl nodes token|revoke`
// change it. Thread-safe: join tokens may be made from other threads while
// the loop thread checks handshakes; a token's database write happens
// outside the lock the checks take.
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <pqxx/connection>
#include <pqxx/transaction>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/protocol/farm_credentials.hpp"

namespace reelfarm::farm {

/// A client key the coordinator admits.
struct farm_peer {
  /// bootstrap: a join token's key, admitted until the token expires, for
  /// `enroll` frames only.
  enum class kind { node, operator_tool, bootstrap };
  kind role = kind::node;
  std::string node_id;  ///< a node key may speak only under this routing id
  bool revoked = false;
};

/// The verdict of the ZAP handler for one CURVE handshake.
struct handshake_verdict {
  bool allowed = false;
  std::string reason;  ///< why not, for the log and the ZAP status text
};

class farm_auth {
 public:
  /// Loads (or on first start creates) the server keypair, enrolled keys and
  /// tokens from PostgreSQL; with an empty `dsn` all of it lives in memory
  /// for this coordinator's life (tests, benchmarks).
  static result<std::unique_ptr<farm_auth>> open(const std::string& dsn);

  /// The coordinator's CURVE keypair.
  const curve_keypair& server_keys() const noexcept { return server_; }

  /// The ZAP rule: enrolled node and operator keys and the keys of live
  /// join tokens connect; revoked, expired and unknown keys do not. (ZAP
  /// does not see the peer's routing id: the frame checks bind a node key
  /// to its node id.)
  handshake_verdict check_handshake(std::string_view client_key);

  /// The admitted peer of `client_key` (a live token's key included), if any.
  std::optional<farm_peer> find(std::string_view client_key);

  /// Enrols `node_key` for `node_id`, asked over a connection with the
  /// bootstrap key `token_key` of a live join token. Asking again for the
  /// same key and id succeeds (a node that lost the answer retries).
  result<void> enroll_node(std::string_view token_key, const std::string& node_key,
                           const std::string& node_id);

  /// A new join token valid for `ttl` (at most 7 days).
  result<std::string> create_token(std::chrono::seconds ttl);

  /// Revokes the key of `node_id`: its frames are refused from now on and
  /// it cannot connect again.
  result<void> revoke_node(const std::string& node_id);

  /// The farm's operator credentials (kept in PostgreSQL beside the server
  /// key; in memory without a database): what `ctl` and gateways use for
  /// admin frames.
  const farm_credentials& operator_credentials() const noexcept { return operator_; }

 private:
  farm_auth() = default;
  result<void> persist(const char* what, const std::function<void(pqxx::work&)>& body);

  std::mutex mutex_;     ///< the maps below
  std::mutex db_mutex_;  ///< conn_ (taken inside mutex_ when both are held, never around it)
  std::string dsn_;
  std::unique_ptr<pqxx::connection> conn_;
  curve_keypair server_;
  farm_credentials operator_;
  std::unordered_map<std::string, farm_peer> peers_;  ///< by public key (Z85)
  std::unordered_map<std::string, std::chrono::system_clock::time_point>
      tokens_;  ///< bootstrap public key -> expiry
};

}  // namespace reelfarm::farm
