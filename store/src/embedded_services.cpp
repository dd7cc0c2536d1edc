#include "reelfarm/store/embedded_services.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "embedded_support.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm {
namespace fs = std::filesystem;

namespace {

fs::path lock_file(const embedded_options& o) {
  return o.data_dir / "reelfarm.lock";
}
fs::path state_file(const embedded_options& o) {
  return o.data_dir / "run" / "services.json";
}

result<file_lock> prepare_data_dir(const embedded_options& options) {
  if (auto r = ensure_directory(options.data_dir, 0755); !r) {
    return error(store_errc::data_dir, r.error().message());
  }
  if (options.run_as) {
    if (auto r = check_reachable(options.data_dir, *options.run_as); !r) {
      return error(store_errc::data_dir, r.error().message());
    }
  }
  return file_lock::acquire(lock_file(options));
}

result<void> write_state(const embedded_options& options, const server_endpoint& postgres,
                         const server_endpoint& redis) {
  nlohmann::json state = {
      {"data_dir", options.data_dir.string()},
      {"postgres",
       {{"dsn", postgres.address},
        {"port", postgres.port},
        {"pid", postgres.pid},
        {"version", postgres.version}}},
      {"redis",
       {{"url", redis.address},
        {"port", redis.port},
        {"pid", redis.pid},
        {"version", redis.version}}},
  };
  return write_file_atomically(state_file(options), state.dump(2) + "\n", 0600);
}

}  // namespace

fs::path default_data_dir() {
  if (geteuid() == 0) {
    return "/var/lib/reelfarm";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / ".reelfarm";
  }
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr) {
    return fs::path(pw->pw_dir) / ".reelfarm";
  }
  return fs::current_path() / ".reelfarm";
}

result<embedded_options> embedded_options_from(const embedded_settings& settings) {
  embedded_options options;
  options.data_dir = settings.data_dir.empty() ? default_data_dir()
                                               : fs::absolute(settings.data_dir).lexically_normal();
  options.postgres_bin_dir = settings.postgres_bin_dir;
  options.redis_server = settings.redis_server;
  options.start_timeout = settings.start_timeout;
  options.stop_timeout = settings.stop_timeout;
  if (geteuid() == 0) {
    auto who = lookup_account(settings.run_as);
    if (!who) {
      return error(store_errc::data_dir,
                   "embedded.run_as: " + who.error().message() +
                       " (PostgreSQL refuses to run as root; install the postgresql package "
                       "or name another account)");
    }
    if (who->uid == 0) {
      return error(
          store_errc::data_dir,
          "embedded.run_as must name an unprivileged account, not '" + settings.run_as + "'");
    }
    options.run_as = *who;
  }
  return options;
}

embedded_services::embedded_services(embedded_options options, file_lock lock,
                                     embedded_postgres postgres, embedded_redis redis)
    : options_(std::move(options)),
      lock_(std::move(lock)),
      postgres_(std::move(postgres)),
      redis_(std::move(redis)) {}

result<std::unique_ptr<embedded_services>> embedded_services::start(
    const embedded_options& options) {
  auto lock = prepare_data_dir(options);
  if (!lock) {
    return std::move(lock).error();
  }
  log::info("store", "starting the embedded services", {{"data_dir", options.data_dir.string()}});
  auto postgres = embedded_postgres::start(options);
  if (!postgres) {
    return std::move(postgres).error();
  }
  auto redis = embedded_redis::start(options);
  if (!redis) {
    return std::move(redis).error();  // postgres stops as it goes out of scope
  }
  if (auto r = write_state(options, postgres->endpoint(), redis->endpoint()); !r) {
    return std::move(r).error();
  }
  return std::unique_ptr<embedded_services>(new embedded_services(
      options, std::move(lock).value(), std::move(postgres).value(), std::move(redis).value()));
}

embedded_services::~embedded_services() {
  (void)stop();
}

result<std::string> embedded_services::secret(const std::string& name) const {
  return embedded::stored_secret(options_.data_dir, name);
}

result<void> embedded_services::stop() {
  if (stopped_) {
    return ok();
  }
  stopped_ = true;
  auto redis = redis_.stop();
  auto postgres = postgres_.stop();
  if (!redis) {
    return redis;
  }
  return postgres;
}

void embedded_services::detach() noexcept {
  redis_.detach();
  postgres_.detach();
  stopped_ = true;
}

result<void> embedded_services::stop_leftovers(const embedded_options& options) {
  auto lock = prepare_data_dir(options);
  if (!lock) {
    return std::move(lock).error();
  }
  auto redis = embedded_redis::stop_leftover(options);
  auto postgres = embedded_postgres::stop_leftover(options);
  std::error_code ec;
  fs::remove(state_file(options), ec);
  if (!redis) {
    return redis;
  }
  return postgres;
}

}  // namespace reelfarm
