// `reelfarm ctl <command>` for the commands that use the HTTP API: the
// session (flags, stored login, API URL), errors, usage and dispatch.
#include <cstdlib>

#include "api_json.hpp"
#include "ctl_api.hpp"

namespace reelfarm::app {
namespace {

struct api_command {
  const char* name;
  int (*run)(ctl_session&);
};

constexpr api_command api_commands[] = {
    {"login", ctl_login},       {"register", ctl_register}, {"logout", ctl_logout},
    {"projects", ctl_projects}, {"submit", ctl_submit},     {"watch", ctl_watch},
    {"download", ctl_download}, {"cancel", ctl_cancel},     {"regenerate", ctl_regenerate},
    {"job", ctl_job},           {"credits", ctl_credits},   {"nodes", ctl_nodes},
};

}  // namespace

std::string ctl_session::api_url() const {
  if (auto api = args.value("--api"); !api.empty()) {
    return api;
  }
  if (const char* env = std::getenv("REELFARM_API"); env != nullptr && *env != '\0') {
    return env;
  }
  if (login) {
    return login->api;
  }
  auto cfg = load_configuration(options);
  auto host = cfg ? cfg->gateway.host : std::string("127.0.0.1");
  if (host == "0.0.0.0" || host == "::" || host.empty()) {
    host = "127.0.0.1";
  }
  return "http://" + host + ":" + std::to_string(cfg ? cfg->gateway.port : 8080);
}

api_client ctl_session::client() const {
  return api_client(api_url(), login, credentials_file);
}

int fail(const reelfarm::error& e) {
  return fail(e.message());
}

int fail(const std::string& message) {
  std::fflush(stdout);
  std::fprintf(stderr, "reelfarm ctl: %s\n", message.c_str());
  return exit_failure;
}

void print_ctl_usage(std::FILE* out) {
  std::fputs(
      "usage: reelfarm ctl login [--api URL] [--email E] [--password-stdin]\n"
      "       reelfarm ctl register [--api URL] [--email E] [--full-name N] [--password-stdin]\n"
      "       reelfarm ctl logout\n"
      "       reelfarm ctl submit FILE.fountain [--title T] [--watch] [--download DIR]\n"
      "       reelfarm ctl projects [list] [--json]\n"
      "       reelfarm ctl watch PROJECT_ID [--download DIR]\n"
      "       reelfarm ctl download PROJECT_ID DIR\n"
      "       reelfarm ctl cancel PROJECT_ID\n"
      "       reelfarm ctl regenerate PROJECT_ID [--watch] [--download DIR]\n"
      "       reelfarm ctl job JOB_ID [--shots] [--json]\n"
      "       reelfarm ctl credits [history] [--json]\n"
      "       reelfarm ctl nodes list [--json] [--api URL | --coordinator tcp://HOST:PORT]\n"
      "       reelfarm ctl nodes drain|undrain|remove NODE_ID [--api URL | --coordinator ...]\n"
      "       reelfarm ctl nodes token [--ttl 1h] [--coordinator ...] [--operator-key FILE]\n"
      "       reelfarm ctl nodes revoke NODE_ID [--coordinator ...] [--operator-key FILE]\n"
      "       reelfarm ctl crm status|backfill|retry [ID]...\n"
      "\n"
      "  The HTTP API: `login` stores the token pair and the API URL in\n"
      "  ~/.config/reelfarm/credentials.json (mode 0600; REELFARM_CREDENTIALS overrides\n"
      "  the path); later commands use it and refresh an expired access token. The\n"
      "  password comes from REELFARM_PASSWORD, --password-stdin, or the terminal.\n"
      "  The API URL: --api, else REELFARM_API, else the login's, else\n"
      "  http://gateway.host:gateway.port of the configuration.\n"
      "  --download implies waiting for the render. Exit status: 0 done (a render:\n"
      "  complete), 1 failed (a render: failed or cancelled), 2 bad command line.\n"
      "  nodes: over ZeroMQ admin frames to the coordinator (docs/protocol.md) when\n"
      "  --coordinator is given, or when there is neither --api nor a stored login\n"
      "  (default coordinator: farm.bind); otherwise through the API (admins only).\n"
      "  ZeroMQ needs the operator key the coordinator keeps in\n"
      "  DATA_DIR/secrets/farm-operator.json (--operator-key: a copy elsewhere).\n"
      "  `nodes token` prints a join token for `reelfarm node --token` (ZeroMQ only);\n"
      "  `nodes revoke` shuts a node's key out of the farm for good.\n"
      "  crm: works on the farm's PostgreSQL (postgres.dsn, or a running serve).\n",
      out);
}

// `words[0]` names the command; the caller handled crm and ZeroMQ nodes.
int run_ctl_api(const std::vector<std::string>& args, const global_options& options) {
  auto parsed = parse_ctl_args(args);
  if (!parsed) {
    std::fprintf(stderr, "reelfarm ctl: %s\n\n", parsed.error().message().c_str());
    print_ctl_usage(stderr);
    return exit_usage;
  }
  ctl_session s{std::move(parsed).value(), options, credentials_path(), std::nullopt};
  if (s.args.has("--help") || s.args.has("-h")) {
    print_ctl_usage(stdout);
    return exit_ok;
  }
  auto stored = load_credentials(s.credentials_file);
  if (!stored) {
    return fail(stored.error());
  }
  s.login = *stored;
  for (const auto& c : api_commands) {
    if (!s.args.words.empty() && s.args.words[0] == c.name) {
      try {
        return c.run(s);
      } catch (const std::exception& e) {  // malformed_answer, json type errors
        return fail(std::string("malformed answer from ") + s.api_url() + ": " + e.what());
      }
    }
  }
  print_ctl_usage(stderr);
  return exit_usage;
}

}  // namespace reelfarm::app
