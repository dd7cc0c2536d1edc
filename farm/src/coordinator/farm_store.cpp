#include "reelfarm/farm/coordinator/farm_store.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "reelfarm/farm/errc.hpp"
#include "reelfarm/store/postgres.hpp"

namespace reelfarm::farm {
namespace {

// A PostgreSQL array literal of quoted, escaped elements.
std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') {
        out += '\\';
      }
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string gpus_json(const std::vector<gpu_info>& gpus) {
  auto arr = nlohmann::json::array();
  for (const auto& g : gpus) {
    arr.push_back({{"index", g.index}, {"memory_mb", g.memory_mb}});
  }
  return arr.dump();
}

error db_error(const char* what, const std::exception& e) {
  return error(farm_errc::persistence, std::string(what) + ": " + e.what());
}

// Runs `body` in one transaction, turning exceptions into errors.
template <class F>
auto in_transaction(pqxx::connection& conn, const char* what, F&& body)
    -> result<decltype(body(std::declval<pqxx::work&>()))> {
  try {
    pqxx::work tx(conn);
    auto value = body(tx);
    tx.commit();
    return value;
  } catch (const std::exception& e) {
    return db_error(what, e);
  }
}

}  // namespace

result<std::unique_ptr<farm_store>> farm_store::open(const std::string& dsn) {
  auto conn = connect_postgres(dsn);
  if (!conn) {
    return conn.error();
  }
  return std::unique_ptr<farm_store>(new farm_store(std::move(conn).value()));
}

result<std::uint64_t> farm_store::reserve(std::uint64_t count) {
  return in_transaction(*conn_, "cannot reserve fencing epochs", [&](pqxx::work& tx) {
    auto row = tx.exec_params1(
        "UPDATE farm_epochs SET next_epoch = next_epoch + $1 RETURNING next_epoch - $1",
        static_cast<long long>(count));
    return row[0].as<std::uint64_t>();
  });
}

result<void> farm_store::save_node(const node_view& n, bool registration) {
  auto r = in_transaction(*conn_, "cannot save a node", [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO farm_nodes (node_id, hostname, gpus, slots, backends, tags, state, failures) "
        "VALUES ($1, $2, $3::jsonb, $4, $5::text[], $6::text[], $7, $8) "
        "ON CONFLICT (node_id) DO UPDATE SET hostname = EXCLUDED.hostname, gpus = EXCLUDED.gpus, "
        "slots = EXCLUDED.slots, backends = EXCLUDED.backends, tags = EXCLUDED.tags, "
        "state = EXCLUDED.state, failures = EXCLUDED.failures, last_seen_at = now(), "
        "registrations = farm_nodes.registrations + $9",
        n.id, n.hostname, gpus_json(n.gpus), n.slots, array_literal(n.backends),
        array_literal(n.tags), n.state, n.failures, registration ? 1 : 0);
    return 0;
  });
  return r ? ok() : result<void>(r.error());
}

result<void> farm_store::remove_node(const std::string& node_id) {
  auto r = in_transaction(*conn_, "cannot remove a node", [&](pqxx::work& tx) {
    tx.exec_params("UPDATE farm_nodes SET state = 'removed' WHERE node_id = $1", node_id);
    return 0;
  });
  return r ? ok() : result<void>(r.error());
}

result<void> farm_store::lease_offered(const offer_event& offer, const std::string& job_id) {
  auto r = in_transaction(*conn_, "cannot record a lease", [&](pqxx::work& tx) {
    tx.exec_params(
        "INSERT INTO farm_leases (epoch, shot_id, job_id, node_id, state) "
        "VALUES ($1, $2, $3, $4, 'offered')",
        static_cast<long long>(offer.offer.lease), offer.offer.shot, job_id, offer.node_id);
    return 0;
  });
  return r ? ok() : result<void>(r.error());
}

result<void> farm_store::lease_ended(const lease_ended_event& e) {
  auto r = in_transaction(*conn_, "cannot record the end of a lease", [&](pqxx::work& tx) {
    tx.exec_params(
        "UPDATE farm_leases SET state = $2, reason = $3, ended_at = now() WHERE epoch = $1",
        static_cast<long long>(e.lease), e.state, e.reason.substr(0, 1024));
    return 0;
  });
  return r ? ok() : result<void>(r.error());
}

result<void> farm_store::shot_done(const shot_outcome& o) {
  auto r = in_transaction(*conn_, "cannot record a result", [&](pqxx::work& tx) {
    tx.exec_params(
        "UPDATE farm_leases SET artifact = $2, checksum = $3, duration_ms = $4 WHERE epoch = $1",
        static_cast<long long>(o.lease), o.artifact, o.checksum,
        static_cast<long long>(o.duration_ms));
    return 0;
  });
  return r ? ok() : result<void>(r.error());
}

result<int> farm_store::expire_open_leases() {
  return in_transaction(*conn_, "cannot expire open leases", [&](pqxx::work& tx) {
    auto res = tx.exec(
        "UPDATE farm_leases SET state = 'expired', reason = 'coordinator restarted', "
        "ended_at = now() WHERE ended_at IS NULL");
    return static_cast<int>(res.affected_rows());
  });
}

result<std::vector<node_view>> farm_store::load_nodes() {
  return in_transaction(*conn_, "cannot load nodes", [&](pqxx::work& tx) {
    std::vector<node_view> out;
    auto rows = tx.exec(
        "SELECT node_id, hostname, slots, state, failures, "
        "extract(epoch FROM now() - last_seen_at) * 1000 FROM farm_nodes "
        "WHERE state <> 'removed' ORDER BY node_id");
    for (const auto& row : rows) {
      node_view v;
      v.id = row[0].as<std::string>();
      v.hostname = row[1].as<std::string>();
      v.slots = row[2].as<int>();
      v.state = row[3].as<std::string>();
      v.failures = row[4].as<int>();
      v.last_heartbeat_ms_ago = static_cast<std::int64_t>(row[5].as<double>());
      out.push_back(std::move(v));
    }
    return out;
  });
}

}  // namespace reelfarm::farm
