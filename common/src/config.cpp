#include "reelfarm/common/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <set>
#include <variant>

#include "reelfarm/common/errc.hpp"
#include "reelfarm/common/log.hpp"

extern char** environ;

namespace reelfarm {
namespace {

using std::chrono::milliseconds;

using string_field = std::string& (*)(config&);
using integer_field = int& (*)(config&);
using boolean_field = bool& (*)(config&);
using duration_field = milliseconds& (*)(config&);
using field_ref = std::variant<string_field, integer_field, boolean_field, duration_field>;

// One row of the schema: documentation, constraints and where the value lives.
struct key_spec {
  std::string_view section;
  std::string_view key;
  std::string_view doc;
  field_ref field;
  long long min = std::numeric_limits<int>::min();  // integers and durations (ms)
  long long max = std::numeric_limits<int>::max();
  std::vector<std::string_view> choices = {};  // strings limited to a set
  bool secret = false;
};

const std::vector<key_spec>& schema() {
  static const std::vector<key_spec> keys = {
      {"log",
       "level",
       "Minimum level written: debug, info, warn or error.",
       string_field{[](config& c) -> std::string& { return c.log.level; }},
       0,
       0,
       {"debug", "info", "warn", "error"}},
      {"log",
       "format",
       "Line format: kv (key=value) or json (one object per line).",
       string_field{[](config& c) -> std::string& { return c.log.format; }},
       0,
       0,
       {"kv", "json"}},
      {"embedded", "data_dir",
       "Folder of the embedded PostgreSQL and Redis data and of local media. Empty: "
       "~/.reelfarm, or /var/lib/reelfarm when run as root.",
       string_field{[](config& c) -> std::string& { return c.embedded.data_dir; }}},
      {"embedded", "run_as",
       "Account the embedded servers run as when reelfarm runs as root (PostgreSQL refuses "
       "to run as root).",
       string_field{[](config& c) -> std::string& { return c.embedded.run_as; }}},
      {"embedded", "postgres_bin_dir", "Folder holding initdb and postgres.",
       string_field{[](config& c) -> std::string& { return c.embedded.postgres_bin_dir; }}},
      {"embedded", "redis_server", "Path of the redis-server binary.",
       string_field{[](config& c) -> std::string& { return c.embedded.redis_server; }}},
      {"embedded", "start_timeout", "How long to wait for a server to answer after starting it.",
       duration_field{[](config& c) -> milliseconds& { return c.embedded.start_timeout; }}, 1000,
       3600000},
      {"embedded", "stop_timeout",
       "How long a server may take to shut down cleanly before it is killed.",
       duration_field{[](config& c) -> milliseconds& { return c.embedded.stop_timeout; }}, 1000,
       3600000},
      {"postgres",
       "dsn",
       "libpq connection string or URI of the PostgreSQL server. Empty: start the embedded "
       "one.",
       string_field{[](config& c) -> std::string& { return c.postgres.dsn; }},
       0,
       0,
       {},
       true},
      {"postgres", "pool_size", "Connections each process keeps to PostgreSQL.",
       integer_field{[](config& c) -> int& { return c.postgres.pool_size; }}, 1, 512},
      {"postgres", "connect_timeout", "How long one connection attempt may take.",
       duration_field{[](config& c) -> milliseconds& { return c.postgres.connect_timeout; }}, 1000,
       600000},
      {"redis",
       "url",
       "Redis URL, redis://[:password@]host:port[/db]. Empty: start the embedded one.",
       string_field{[](config& c) -> std::string& { return c.redis.url; }},
       0,
       0,
       {},
       true},
      {"redis", "timeout", "Connect and command timeout for Redis.",
       duration_field{[](config& c) -> milliseconds& { return c.redis.timeout; }}, 10, 600000},
      {"gateway", "host", "Address the HTTP API listens on.",
       string_field{[](config& c) -> std::string& { return c.gateway.host; }}},
      {"gateway", "port", "TCP port of the HTTP API (0 picks a free one).",
       integer_field{[](config& c) -> int& { return c.gateway.port; }}, 0, 65535},
      {"gateway",
       "jwt_secret",
       "HS256 signing key of access tokens, at least 32 bytes. Empty: on the embedded "
       "default, a key generated once and kept in the data folder (secrets/jwt.key); with "
       "external servers, a random key per process, so tokens do not survive a restart.",
       string_field{[](config& c) -> std::string& { return c.gateway.jwt_secret; }},
       0,
       0,
       {},
       true},
      {"gateway", "jwt_issuer", "The iss claim written into and required of access tokens.",
       string_field{[](config& c) -> std::string& { return c.gateway.jwt_issuer; }}},
      {"gateway", "access_token_ttl", "Lifetime of an access token.",
       duration_field{[](config& c) -> milliseconds& { return c.gateway.access_token_ttl; }}, 60000,
       7LL * 24 * 3600 * 1000},
      {"gateway", "refresh_token_ttl", "Lifetime of a refresh token (rotated on every use).",
       duration_field{[](config& c) -> milliseconds& { return c.gateway.refresh_token_ttl; }},
       3600000, 365LL * 24 * 3600 * 1000},
      {"gateway", "io_threads", "Threads that read and write HTTP connections.",
       integer_field{[](config& c) -> int& { return c.gateway.io_threads; }}, 1, 64},
      {"gateway", "blocking_threads", "Threads for database and password-hashing work.",
       integer_field{[](config& c) -> int& { return c.gateway.blocking_threads; }}, 1, 256},
      {"gateway", "max_json_body", "Largest JSON request body in bytes (413 above).",
       integer_field{[](config& c) -> int& { return c.gateway.max_json_body; }}, 1024,
       64 * 1024 * 1024},
      {"gateway", "max_upload_body", "Largest screenplay upload in bytes (413 above).",
       integer_field{[](config& c) -> int& { return c.gateway.max_upload_body; }}, 1024,
       256 * 1024 * 1024},
      {"gateway", "header_timeout",
       "Time allowed for a whole request header from its first byte (slowloris guard).",
       duration_field{[](config& c) -> milliseconds& { return c.gateway.header_timeout; }}, 100,
       600000},
      {"gateway", "idle_timeout", "How long a keep-alive connection may wait for a request.",
       duration_field{[](config& c) -> milliseconds& { return c.gateway.idle_timeout; }}, 100,
       3600000},
      {"gateway", "cors_origins",
       "Origins allowed by CORS, comma-separated; * allows any; empty sends no CORS headers.",
       string_field{[](config& c) -> std::string& { return c.gateway.cors_origins; }}},
      {"gateway", "grafana_url",
       "Grafana dashboards the web console links operators to; empty shows no link.",
       string_field{[](config& c) -> std::string& { return c.gateway.grafana_url; }}},
      {"gateway", "secure_cookies",
       "The web console's session cookies are Secure except on plain http to a loopback host "
       "(127.0.0.0/8, ::1, localhost); true marks them Secure there too (a TLS proxy on the "
       "same machine that sends no X-Forwarded-Proto).",
       boolean_field{[](config& c) -> bool& { return c.gateway.secure_cookies; }}},
      {"gateway", "trusted_proxies",
       "Reverse proxies whose X-Forwarded-For is believed, comma-separated CIDR networks or "
       "addresses (10.0.0.0/8, ::1). Only for a peer inside one is the right-most address "
       "that is not itself a trusted proxy the client, which rate limits count by; empty: "
       "the peer is always the client. A bad entry stops start-up.",
       string_field{[](config& c) -> std::string& { return c.gateway.trusted_proxies; }}},
      {"gateway", "rate_limit_per_user", "Requests per minute per user and endpoint.",
       integer_field{[](config& c) -> int& { return c.gateway.rate_limit_per_user; }}, 1, 1000000},
      {"gateway", "rate_limit_per_ip",
       "Unauthenticated requests per minute per client address and endpoint.",
       integer_field{[](config& c) -> int& { return c.gateway.rate_limit_per_ip; }}, 1, 1000000},
      {"gateway", "rate_limit_login_per_ip",
       "Login, register and refresh attempts per minute per client address.",
       integer_field{[](config& c) -> int& { return c.gateway.rate_limit_login_per_ip; }}, 1,
       100000},
      {"gateway", "max_streams_per_user",
       "Event streams and large downloads one user may have open at once on a gateway; "
       "more are answered 429 too_many_streams.",
       integer_field{[](config& c) -> int& { return c.gateway.max_streams_per_user; }}, 1, 10000},
      {"planner", "speaking_rate_wpm", "Words per minute of spoken dialogue.",
       integer_field{[](config& c) -> int& { return c.planner.speaking_rate_wpm; }}, 60, 400},
      {"planner", "reading_rate_wpm", "Words per minute an action paragraph is shown for.",
       integer_field{[](config& c) -> int& { return c.planner.reading_rate_wpm; }}, 60, 600},
      {"planner", "establishing_shot", "Length of the establishing shot of every scene.",
       duration_field{[](config& c) -> milliseconds& { return c.planner.establishing_shot; }}, 500,
       60000},
      {"planner", "min_shot", "Shortest shot the planner makes.",
       duration_field{[](config& c) -> milliseconds& { return c.planner.min_shot; }}, 500, 60000},
      {"planner", "max_shot", "Longest shot the planner makes; longer text is held this long.",
       duration_field{[](config& c) -> milliseconds& { return c.planner.max_shot; }}, 1000, 600000},
      {"planner", "t2v_credits",
       "Credits a provider shot generated from its text alone (t2v) costs.",
       integer_field{[](config& c) -> int& { return c.planner.t2v_credits; }}, 0, 10000},
      {"planner", "i2v_credits",
       "Credits a provider shot generated from reference images (i2v) costs.",
       integer_field{[](config& c) -> int& { return c.planner.i2v_credits; }}, 0, 10000},
      {"farm", "bind",
       "ZeroMQ endpoint the coordinator listens on for render nodes (tcp://HOST:PORT; port * "
       "or 0: one the OS picks, printed by serve).",
       string_field{[](config& c) -> std::string& { return c.farm.bind; }}},
      {"farm", "heartbeat", "How often nodes and the coordinator exchange heartbeats.",
       duration_field{[](config& c) -> milliseconds& { return c.farm.heartbeat; }}, 100, 60000},
      {"farm", "lease_ttl",
       "Silence after which a node counts as lost and its leases are granted elsewhere.",
       duration_field{[](config& c) -> milliseconds& { return c.farm.lease_ttl; }}, 500, 600000},
      {"plans", "file", "YAML table of subscription plans. Empty: the built-in defaults.",
       string_field{[](config& c) -> std::string& { return c.plans.file; }}},
      {"crm", "enabled", "Mirror users, projects, credits and uploads into Salesforce.",
       boolean_field{[](config& c) -> bool& { return c.crm.enabled; }}},
      {"crm", "login_url", "Salesforce login host (token endpoint).",
       string_field{[](config& c) -> std::string& { return c.crm.login_url; }}},
      {"crm", "api_version", "Salesforce REST API version (46.0 or later).",
       string_field{[](config& c) -> std::string& { return c.crm.api_version; }}},
      {"crm",
       "auth_flow",
       "OAuth 2.0 flow: jwt_bearer or client_credentials.",
       string_field{[](config& c) -> std::string& { return c.crm.auth_flow; }},
       0,
       0,
       {"jwt_bearer", "client_credentials"}},
      {"crm", "client_id", "Connected app consumer key (the JWT iss).",
       string_field{[](config& c) -> std::string& { return c.crm.client_id; }}},
      {"crm",
       "client_secret",
       "Connected app secret (client_credentials flow only).",
       string_field{[](config& c) -> std::string& { return c.crm.client_secret; }},
       0,
       0,
       {},
       true},
      {"crm", "username", "Integration user (the JWT sub).",
       string_field{[](config& c) -> std::string& { return c.crm.username; }}},
      {"crm", "private_key_file", "PEM RSA key that signs the JWT bearer assertion.",
       string_field{[](config& c) -> std::string& { return c.crm.private_key_file; }}},
      {"crm", "audience", "JWT aud; empty: the login host.",
       string_field{[](config& c) -> std::string& { return c.crm.audience; }}},
      {"crm", "batch_size", "Records per sObject Collections call.",
       integer_field{[](config& c) -> int& { return c.crm.batch_size; }}, 1, 200},
      {"crm", "bulk_threshold", "More changed records of one object than this go by Bulk API 2.0.",
       integer_field{[](config& c) -> int& { return c.crm.bulk_threshold; }}, 1, 100000000},
      {"crm", "poll_interval", "Outbox poll when no NOTIFY arrives.",
       duration_field{[](config& c) -> milliseconds& { return c.crm.poll_interval; }}, 100,
       3600000},
      {"crm", "send_interval",
       "While changes keep coming, send at most this often so each call carries many records "
       "(0ms: lowest latency, most API calls).",
       duration_field{[](config& c) -> milliseconds& { return c.crm.send_interval; }}, 0, 600000},
      {"providers", "comfyui_url",
       "ComfyUI server nodes use for --backend comfyui without a URL (http://HOST:8188).",
       string_field{[](config& c) -> std::string& { return c.providers.comfyui_url; }}},
      {"providers",
       "comfyui_api_key",
       "Bearer token for a ComfyUI behind an authenticating proxy; empty: none.",
       string_field{[](config& c) -> std::string& { return c.providers.comfyui_api_key; }},
       0,
       0,
       {},
       true},
      {"providers", "replicate_url", "Base URL of the Replicate-style predictions API.",
       string_field{[](config& c) -> std::string& { return c.providers.replicate_url; }}},
      {"providers",
       "replicate_api_token",
       "API token of the predictions API (sent as Authorization: Bearer).",
       string_field{[](config& c) -> std::string& { return c.providers.replicate_api_token; }},
       0,
       0,
       {},
       true},
      {"providers", "runpod_url", "Base URL of RunPod serverless.",
       string_field{[](config& c) -> std::string& { return c.providers.runpod_url; }}},
      {"providers",
       "runpod_api_key",
       "RunPod API key (sent as Authorization: Bearer).",
       string_field{[](config& c) -> std::string& { return c.providers.runpod_api_key; }},
       0,
       0,
       {},
       true},
      {"youtube", "client_id", "Google OAuth 2.0 client id; empty: publishing to YouTube is off.",
       string_field{[](config& c) -> std::string& { return c.youtube.client_id; }}},
      {"youtube",
       "client_secret",
       "Google OAuth 2.0 client secret.",
       string_field{[](config& c) -> std::string& { return c.youtube.client_secret; }},
       0,
       0,
       {},
       true},
      {"youtube", "redirect_uri",
       "The gateway's /api/v1/youtube/callback URL, as registered with Google.",
       string_field{[](config& c) -> std::string& { return c.youtube.redirect_uri; }}},
      {"youtube",
       "token_key",
       "Encrypts refresh tokens at rest and signs OAuth states: 64 hex digits or a passphrase "
       "of 32+ characters; empty: publishing to YouTube is off.",
       string_field{[](config& c) -> std::string& { return c.youtube.token_key; }},
       0,
       0,
       {},
       true},
      {"youtube", "auth_url", "Google's OAuth 2.0 consent page.",
       string_field{[](config& c) -> std::string& { return c.youtube.auth_url; }}},
      {"youtube", "token_url", "Google's OAuth 2.0 token endpoint.",
       string_field{[](config& c) -> std::string& { return c.youtube.token_url; }}},
      {"youtube", "revoke_url", "Google's OAuth 2.0 revocation endpoint.",
       string_field{[](config& c) -> std::string& { return c.youtube.revoke_url; }}},
      {"youtube", "api_url", "YouTube Data API v3 base URL.",
       string_field{[](config& c) -> std::string& { return c.youtube.api_url; }}},
      {"youtube", "upload_url", "YouTube Data API v3 upload base URL.",
       string_field{[](config& c) -> std::string& { return c.youtube.upload_url; }}},
      {"youtube", "chunk_size", "Bytes per resumable upload request; a multiple of 262144.",
       integer_field{[](config& c) -> int& { return c.youtube.chunk_size; }}, 262144, 268435456},
      {"billing",
       "stripe_webhook_secret",
       "Signing secret of the Stripe webhook endpoint (whsec_...); empty: billing is off.",
       string_field{[](config& c) -> std::string& { return c.billing.stripe_webhook_secret; }},
       0,
       0,
       {},
       true},
      {"billing",
       "stripe_secret_key",
       "Stripe API secret key (sk_live_... or sk_test_...); empty: billing is off.",
       string_field{[](config& c) -> std::string& { return c.billing.stripe_secret_key; }},
       0,
       0,
       {},
       true},
      {"billing", "stripe_api_base", "Base URL of Stripe's API (a test server in tests).",
       string_field{[](config& c) -> std::string& { return c.billing.stripe_api_base; }}},
      {"billing", "currency", "Currency of plans and packs (ISO 4217, lower case).",
       string_field{[](config& c) -> std::string& { return c.billing.currency; }}},
      {"billing", "credit_packs", "Credit packs sold: name:credits:price_cents, comma separated.",
       string_field{[](config& c) -> std::string& { return c.billing.credit_packs; }}},
      {"billing", "data_sharing_coupon",
       "Stripe coupon id of the 10% data-sharing discount (created when missing).",
       string_field{[](config& c) -> std::string& { return c.billing.data_sharing_coupon; }}},
      {"billing", "return_url",
       "Where Stripe Checkout and the customer portal send the browser back.",
       string_field{[](config& c) -> std::string& { return c.billing.return_url; }}},
      {"billing", "grace_period", "How long a subscription whose renewal failed keeps its plan.",
       duration_field{[](config& c) -> milliseconds& { return c.billing.grace_period; }}, 0,
       90LL * 24 * 3600 * 1000},
  };
  return keys;
}

config_type type_of(const key_spec& spec) {
  switch (spec.field.index()) {
    case 0:
      return spec.choices.empty() ? config_type::string : config_type::choice;
    case 1:
      return config_type::integer;
    case 2:
      return config_type::boolean;
    default:
      return config_type::duration;
  }
}

std::string join(const std::vector<std::string_view>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out += sep;
    }
    out += items[i];
  }
  return out;
}

std::string expected_text(const key_spec& spec) {
  switch (type_of(spec)) {
    case config_type::string:
      return "a string";
    case config_type::choice:
      return "one of " + join(spec.choices, ", ");
    case config_type::integer:
      return "an integer from " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
    case config_type::boolean:
      return "true or false";
    case config_type::duration:
      return "a duration from " + format_duration(milliseconds(spec.min)) + " to " +
             format_duration(milliseconds(spec.max)) + " (like 500ms, 5s, 2m)";
  }
  return "a value";
}

// Applies one textual value to the configuration, or explains why it cannot.
result<void> assign(config& cfg, const key_spec& spec, std::string_view text,
                    const std::string& where) {
  auto bad = [&](common_errc code) {
    return error(code, where + ": " + std::string(spec.section) + "." + std::string(spec.key) +
                           " must be " + expected_text(spec) + ", got '" + std::string(text) + "'");
  };
  switch (spec.field.index()) {
    case 0: {
      if (!spec.choices.empty() &&
          std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end()) {
        return bad(common_errc::config_range);
      }
      std::get<string_field>(spec.field)(cfg) = std::string(text);
      return ok();
    }
    case 1: {
      long long value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec == std::errc::result_out_of_range) {
        return bad(common_errc::config_range);
      }
      if (ec != std::errc() || end != text.data() + text.size()) {
        return bad(common_errc::config_type);
      }
      if (value < spec.min || value > spec.max) {
        return bad(common_errc::config_range);
      }
      std::get<integer_field>(spec.field)(cfg) = static_cast<int>(value);
      return ok();
    }
    case 2: {
      if (text != "true" && text != "false") {
        return bad(common_errc::config_type);
      }
      std::get<boolean_field>(spec.field)(cfg) = text == "true";
      return ok();
    }
    default: {
      auto value = parse_duration(text);
      if (!value) {
        return bad(common_errc::config_type);
      }
      if (value->count() < spec.min || value->count() > spec.max) {
        return bad(common_errc::config_range);
      }
      std::get<duration_field>(spec.field)(cfg) = *value;
      return ok();
    }
  }
}

const key_spec* find_key(std::string_view section, std::string_view key) {
  for (const auto& spec : schema()) {
    if (spec.section == section && spec.key == key) {
      return &spec;
    }
  }
  return nullptr;
}

bool has_section(std::string_view section) {
  return std::any_of(schema().begin(), schema().end(),
                     [&](const key_spec& s) { return s.section == section; });
}

std::vector<std::string_view> keys_of(std::string_view section) {
  std::vector<std::string_view> out;
  for (const auto& spec : schema()) {
    if (spec.section == section) {
      out.push_back(spec.key);
    }
  }
  return out;
}

std::vector<std::string_view> sections() {
  std::vector<std::string_view> out;
  for (const auto& spec : schema()) {
    if (std::find(out.begin(), out.end(), spec.section) == out.end()) {
      out.push_back(spec.section);
    }
  }
  return out;
}

std::string position(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) {
    return file;
  }
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

result<void> apply_file(config& cfg, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    return error(common_errc::config_file, file + ": cannot read the configuration file");
  } catch (const YAML::Exception& e) {
    return error(common_errc::config_file, position(file, e.mark) + ": not valid YAML: " + e.msg);
  }
  if (root.IsNull()) {
    return ok();  // an empty file keeps every default
  }
  if (!root.IsMap()) {
    return error(common_errc::config_type, position(file, root.Mark()) +
                                               ": the top level must be a mapping of sections (" +
                                               join(sections(), ", ") + ")");
  }
  std::set<std::string> seen_sections;
  for (const auto& section_entry : root) {
    const auto& name_node = section_entry.first;
    auto section = name_node.Scalar();
    auto where = position(file, name_node.Mark());
    if (!has_section(section)) {
      return error(
          common_errc::config_unknown_key,
          where + ": unknown section '" + section + "' (known: " + join(sections(), ", ") + ")");
    }
    if (!seen_sections.insert(section).second) {
      return error(common_errc::config_file, where + ": section '" + section + "' appears twice");
    }
    const auto& body = section_entry.second;
    if (body.IsNull()) {
      continue;
    }
    if (!body.IsMap()) {
      return error(common_errc::config_type, position(file, body.Mark()) + ": section '" + section +
                                                 "' must be a mapping of keys (" +
                                                 join(keys_of(section), ", ") + ")");
    }
    std::set<std::string> seen_keys;
    for (const auto& entry : body) {
      auto key = entry.first.Scalar();
      auto key_where = position(file, entry.first.Mark());
      const auto* spec = find_key(section, key);
      if (spec == nullptr) {
        return error(common_errc::config_unknown_key,
                     key_where + ": unknown key '" + section + "." + key + "' (known in " +
                         section + ": " + join(keys_of(section), ", ") + ")");
      }
      if (!seen_keys.insert(key).second) {
        return error(common_errc::config_file,
                     key_where + ": key '" + section + "." + key + "' appears twice");
      }
      const auto& value = entry.second;
      auto value_where = position(file, value.Mark());
      if (!value.IsScalar()) {
        return error(common_errc::config_type, value_where + ": " + section + "." + key +
                                                   " must be " + expected_text(*spec) + ", got " +
                                                   (value.IsNull() ? "nothing" : "a collection"));
      }
      if (auto r = assign(cfg, *spec, value.Scalar(), value_where); !r) {
        return r;
      }
    }
  }
  return ok();
}

// Variables that name something other than a key and are read elsewhere.
// Variables that are not configuration keys: the config file's path, the
// test harness's, those of the API client (`reelfarm ctl`) and a node's join token.
bool is_reserved_variable(std::string_view name) {
  return name == "REELFARM_CONFIG" || name.starts_with("REELFARM_TEST_") ||
         name == "REELFARM_API" || name == "REELFARM_CREDENTIALS" || name == "REELFARM_PASSWORD" ||
         name == "REELFARM_JOIN_TOKEN";
}

result<void> apply_environment(config& cfg, const std::vector<std::string>& environment) {
  for (const auto& entry : environment) {
    if (!entry.starts_with("REELFARM_")) {
      continue;
    }
    auto eq = entry.find('=');
    std::string name = entry.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : entry.substr(eq + 1);
    if (is_reserved_variable(name)) {
      continue;
    }
    const key_spec* match = nullptr;
    for (const auto& spec : schema()) {
      if (environment_name(spec.section, spec.key) == name) {
        match = &spec;
        break;
      }
    }
    if (match == nullptr) {
      return error(common_errc::config_unknown_key,
                   "environment variable " + name +
                       " names no configuration key (see `reelfarm config keys`)");
    }
    if (auto r = assign(cfg, *match, value, "environment variable " + name); !r) {
      return r;
    }
  }
  return ok();
}

result<void> apply_overrides(config& cfg, const std::vector<std::string>& overrides) {
  for (const auto& entry : overrides) {
    auto eq = entry.find('=');
    auto dot = entry.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot > eq) {
      return error(common_errc::invalid_argument,
                   "flag --set " + entry + ": expected section.key=value");
    }
    auto section = entry.substr(0, dot);
    auto key = entry.substr(dot + 1, eq - dot - 1);
    const auto* spec = find_key(section, key);
    if (spec == nullptr) {
      return error(common_errc::config_unknown_key,
                   "flag --set " + entry + ": unknown key '" + section + "." + key + "'");
    }
    if (auto r = assign(cfg, *spec, entry.substr(eq + 1), "flag --set " + section + "." + key);
        !r) {
      return r;
    }
  }
  return ok();
}

}  // namespace

result<config> load_config(const config_sources& sources) {
  config cfg;
  if (sources.file) {
    if (auto r = apply_file(cfg, *sources.file); !r) {
      return std::move(r).error();
    }
  }
  if (auto r = apply_environment(cfg, sources.environment); !r) {
    return std::move(r).error();
  }
  if (auto r = apply_overrides(cfg, sources.overrides); !r) {
    return std::move(r).error();
  }
  return cfg;
}

std::vector<std::string> process_environment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    out.emplace_back(*e);
  }
  return out;
}

std::vector<config_key_info> config_keys() {
  std::vector<config_key_info> out;
  for (const auto& spec : schema()) {
    out.push_back({spec.section, spec.key, type_of(spec), spec.doc, spec.secret});
  }
  return out;
}

std::string describe(const config& cfg) {
  auto copy = cfg;  // the accessors take a mutable config
  std::string out;
  for (const auto& spec : schema()) {
    std::string value;
    switch (spec.field.index()) {
      case 0:
        value = std::get<string_field>(spec.field)(copy);
        if (spec.secret) {
          // Connection strings keep host and port visible; plain secrets show nothing.
          bool connection = spec.key == "dsn" || spec.key == "url";
          value = connection ? log::redact_dsn(value) : value.empty() ? "" : "[redacted]";
        }
        break;
      case 1:
        value = std::to_string(std::get<integer_field>(spec.field)(copy));
        break;
      case 2:
        value = std::get<boolean_field>(spec.field)(copy) ? "true" : "false";
        break;
      default:
        value = format_duration(std::get<duration_field>(spec.field)(copy));
    }
    out.append(spec.section).append(".").append(spec.key).append(" = ");
    out.append(value.empty() ? "\"\"" : value).append("\n");
  }
  return out;
}

std::string environment_name(std::string_view section, std::string_view key) {
  std::string name = "REELFARM_";
  for (char c : section) {
    name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  name += '_';
  for (char c : key) {
    name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

result<milliseconds> parse_duration(std::string_view text) {
  auto fail = [&] {
    return error(common_errc::config_type,
                 "'" + std::string(text) + "' is not a duration (like 500ms, 5s, 2m, 1h)");
  };
  long long number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || number < 0) {
    return fail();
  }
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  long long scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else {
    return fail();
  }
  if (number > std::numeric_limits<long long>::max() / scale) {
    return fail();
  }
  return milliseconds(number * scale);
}

std::string format_duration(milliseconds value) {
  auto ms = value.count();
  if (ms != 0 && ms % 3'600'000 == 0) {
    return std::to_string(ms / 3'600'000) + "h";
  }
  if (ms != 0 && ms % 60'000 == 0) {
    return std::to_string(ms / 60'000) + "m";
  }
  if (ms != 0 && ms % 1000 == 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

}  // namespace reelfarm
