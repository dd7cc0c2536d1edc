#include "reelfarm/store/store_services.hpp"

#include <pqxx/pqxx>

#include "reelfarm/store/postgres.hpp"
#include "reelfarm/store/redis_client.hpp"

namespace reelfarm {

result<std::unique_ptr<store_services>> store_services::open(const config& cfg) {
  std::unique_ptr<store_services> out(new store_services());
  out->postgres_dsn_ = cfg.postgres.dsn;
  out->redis_url_ = cfg.redis.url;
  if (cfg.postgres.dsn.empty() || cfg.redis.url.empty()) {
    auto options = embedded_options_from(cfg.embedded);
    if (!options) {
      return std::move(options).error();
    }
    auto embedded = embedded_services::start(*options);
    if (!embedded) {
      return std::move(embedded).error();
    }
    out->embedded_ = std::move(embedded).value();
    if (out->postgres_dsn_.empty()) {
      out->postgres_dsn_ = out->embedded_->postgres().address;
    }
    if (out->redis_url_.empty()) {
      out->redis_url_ = out->embedded_->redis().address;
    }
  }
  out->postgres_dsn_ = with_connect_timeout(out->postgres_dsn_, cfg.postgres.connect_timeout);
  auto conn = connect_postgres(out->postgres_dsn_);
  if (!conn) {
    return std::move(conn).error();
  }
  auto version = postgres_server_version(**conn);
  if (!version) {
    return std::move(version).error();
  }
  out->postgres_version_ = *version;
  auto report = migrate(**conn, bundled_migrations());
  if (!report) {
    return std::move(report).error();
  }
  out->migrations_ = std::move(report).value();
  auto redis = redis_client::connect(out->redis_url_, cfg.redis.timeout);
  if (!redis) {
    return std::move(redis).error();
  }
  auto redis_version = redis->server_info("redis_version");
  if (!redis_version) {
    return std::move(redis_version).error();
  }
  out->redis_version_ = *redis_version;
  return out;
}

result<void> store_services::stop() {
  if (!embedded_) {
    return ok();
  }
  return embedded_->stop();
}

}  // namespace reelfarm
