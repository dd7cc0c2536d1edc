// `reelfarm ctl crm status|backfill|retry`: operator commands for the
// Salesforce mirror. They work on PostgreSQL directly, so they need the
// configured postgres.dsn or a running `reelfarm serve` on this data folder.
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "reelfarm/common/errc.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/crm_sync/crm_admin.hpp"
#include "reelfarm/store/embedded_options.hpp"
#include "reelfarm/store/postgres.hpp"

namespace reelfarm::app {
namespace {

// The DSN of the farm's database: configured, or the one a running serve
// wrote to <data_dir>/run/services.json.
result<std::string> farm_database(const config& cfg) {
  if (!cfg.postgres.dsn.empty()) {
    return cfg.postgres.dsn;
  }
  auto data_dir = cfg.embedded.data_dir.empty() ? default_data_dir()
                                                : std::filesystem::path(cfg.embedded.data_dir);
  auto state = read_file(data_dir / "run" / "services.json");
  if (!state) {
    return error(common_errc::invalid_argument,
                 "no running farm found in " + data_dir.string() +
                     " (start `reelfarm serve`, or set postgres.dsn)");
  }
  auto json = nlohmann::json::parse(*state, nullptr, false);
  if (!json.is_object() || !json["postgres"].is_object() || !json["postgres"]["dsn"].is_string()) {
    return error(common_errc::invalid_argument,
                 data_dir.string() + "/run/services.json is not a services file");
  }
  return json["postgres"]["dsn"].get<std::string>();
}

void print_status(const crm::outbox_backlog& b, const std::vector<crm::dead_letter>& letters) {
  std::printf("outbox pending      %lld (oldest %.1f s, %lld retrying)\n",
              static_cast<long long>(b.pending), static_cast<double>(b.oldest_pending_ms) / 1000.0,
              static_cast<long long>(b.retrying));
  std::printf("sent last hour      %lld\n", static_cast<long long>(b.done_last_hour));
  std::printf("dead letters open   %lld\n", static_cast<long long>(b.dead_letters_open));
  for (const auto& d : letters) {
    std::printf("  #%lld %s %s: %s %s (%s)\n", static_cast<long long>(d.id), d.object.c_str(),
                d.record_key.c_str(), d.status_code.c_str(), d.message.c_str(),
                d.created_at.c_str());
  }
}

result<std::vector<std::int64_t>> parse_ids(const std::vector<std::string>& words) {
  std::vector<std::int64_t> ids;
  for (std::size_t i = 2; i < words.size(); ++i) {
    std::int64_t id = 0;
    const auto& w = words[i];
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), id);
    if (ec != std::errc() || end != w.data() + w.size() || id <= 0) {
      return error(common_errc::invalid_argument, "'" + w + "' is not a dead-letter id");
    }
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

int run_ctl_crm(const std::vector<std::string>& words, const global_options& options) {
  bool known =
      words.size() >= 2 && (words[1] == "status" || words[1] == "backfill" || words[1] == "retry");
  if (!known || (words[1] != "retry" && words.size() != 2)) {
    std::fputs(
        "usage: reelfarm ctl crm status             outbox backlog and open dead letters\n"
        "       reelfarm ctl crm backfill           enqueue every mirrored record again\n"
        "       reelfarm ctl crm retry [ID]...      re-send dead-lettered records (all: no IDs)\n",
        stderr);
    return exit_usage;
  }
  auto ids = parse_ids(words);
  if (!ids) {
    std::fprintf(stderr, "reelfarm ctl crm: %s\n", ids.error().message().c_str());
    return exit_usage;
  }
  auto cfg = load_configuration(options);
  if (!cfg) {
    return exit_usage;
  }
  auto dsn = farm_database(*cfg);
  auto conn = dsn ? connect_postgres(with_connect_timeout(*dsn, cfg->postgres.connect_timeout))
                  : result<std::unique_ptr<pqxx::connection>>(dsn.error());
  if (!conn) {
    std::fprintf(stderr, "reelfarm ctl crm: %s\n", conn.error().message().c_str());
    return exit_failure;
  }
  auto fail = [](const error& e) {
    std::fprintf(stderr, "reelfarm ctl crm: %s\n", e.message().c_str());
    return exit_failure;
  };
  if (words[1] == "backfill") {
    auto n = crm::enqueue_backfill(**conn);
    if (!n) {
      return fail(n.error());
    }
    std::printf("enqueued %lld records; the running sync sends them (Bulk API 2.0 when large)\n",
                static_cast<long long>(*n));
  } else if (words[1] == "retry") {
    auto n = crm::retry_dead_letters(**conn, *ids);
    if (!n) {
      return fail(n.error());
    }
    std::printf("re-enqueued %lld dead-lettered records\n", static_cast<long long>(*n));
  } else {
    auto backlog = crm::read_backlog(**conn);
    auto letters = crm::list_dead_letters(**conn, 20);
    if (!backlog) {
      return fail(backlog.error());
    }
    if (!letters) {
      return fail(letters.error());
    }
    print_status(*backlog, *letters);
  }
  return exit_ok;
}

}  // namespace reelfarm::app
