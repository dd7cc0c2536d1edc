#include "reelfarm/testing/services.hpp"

#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <stdexcept>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/store/embedded_services.hpp"
#include "reelfarm/store/migrations.hpp"
#include "reelfarm/testing/temp_dir.hpp"

namespace reelfarm::testing {
namespace {

// Private servers for a test binary run outside ctest; static so they stop
// when the process exits.
struct private_services {
  temp_dir dir;
  std::unique_ptr<embedded_services> services;
};

test_endpoints load_endpoints() {
  if (const char* file = std::getenv("REELFARM_TEST_SERVICES"); file != nullptr && *file) {
    auto text = read_file(file);
    if (!text) {
      throw std::runtime_error("REELFARM_TEST_SERVICES: " + text.error().message() +
                               " (did the services.up fixture run?)");
    }
    auto state = nlohmann::json::parse(*text);
    return {state.at("postgres").at("dsn").get<std::string>(),
            state.at("redis").at("url").get<std::string>()};
  }
  static private_services own;
  auto started = embedded_services::start(test_embedded_options(own.dir.path()));
  if (!started) {
    throw std::runtime_error("cannot start test services: " + started.error().message());
  }
  own.services = std::move(started).value();
  return {own.services->postgres().address, own.services->redis().address};
}

}  // namespace

const test_endpoints& test_services() {
  static const test_endpoints endpoints = load_endpoints();
  return endpoints;
}

embedded_options test_embedded_options(const std::filesystem::path& dir) {
  embedded_options options;
  options.data_dir = dir;
  options.durable = false;
  if (geteuid() == 0) {
    auto who = lookup_account("postgres");
    if (!who) {
      throw std::runtime_error("tests run as root need the postgres account: " +
                               who.error().message());
    }
    options.run_as = *who;
  }
  return options;
}

scratch_database::scratch_database(bool migrated) {
  auto suffix = random_hex(6);
  if (!suffix) {
    throw std::runtime_error(suffix.error().message());
  }
  name_ = "test_" + *suffix;
  const auto& base = test_services().postgres_dsn;
  {
    pqxx::connection admin(base);
    pqxx::nontransaction tx(admin);
    tx.exec0("CREATE DATABASE " + name_);
  }
  dsn_ = base + " dbname=" + name_;  // libpq: the last value of a keyword wins
  if (migrated) {
    pqxx::connection conn(dsn_);
    auto report = migrate(conn, bundled_migrations());
    if (!report) {
      throw std::runtime_error(report.error().message());
    }
  }
}

scratch_database::~scratch_database() {
  try {
    pqxx::connection admin(test_services().postgres_dsn);
    pqxx::nontransaction tx(admin);
    tx.exec0("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // The server may already be gone at the end of a run; the database dies with it.
  }
}

}  // namespace reelfarm::testing
