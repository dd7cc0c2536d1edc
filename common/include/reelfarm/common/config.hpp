#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/common/result.hpp"

namespace reelfarm {

/// Logging (section `log`).
struct log_settings {
  std::string level = "info";  ///< debug, info, warn or error
  std::string format = "kv";   ///< kv (key=value) or json
};

/// The embedded PostgreSQL and Redis started when no server is configured
/// (section `embedded`).
struct embedded_settings {
  std::string data_dir;             ///< empty: ~/.reelfarm, or /var/lib/reelfarm for root
  std::string run_as = "postgres";  ///< account the servers run as when started by root
  std::string postgres_bin_dir = "/usr/lib/postgresql/15/bin";
  std::string redis_server = "/usr/bin/redis-server";
  std::chrono::milliseconds start_timeout{60000};
  std::chrono::milliseconds stop_timeout{30000};
};

/// The system of record (section `postgres`).
struct postgres_settings {
  std::string dsn;  ///< empty: use the embedded server
  int pool_size = 8;
  std::chrono::milliseconds connect_timeout{5000};
};

/// Caches, progress events and rate limits (section `redis`).
struct redis_settings {
  std::string url;  ///< empty: use the embedded server
  std::chrono::milliseconds timeout{2000};
};

/// The HTTP API (section `gateway`).
struct gateway_settings {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string jwt_secret;  ///< HS256 key, at least 32 bytes; empty: kept in the data folder
                           ///< (embedded) or random
  std::string jwt_issuer = "reelfarm";
  std::chrono::milliseconds access_token_ttl{3600 * 1000};
  std::chrono::milliseconds refresh_token_ttl{30LL * 24 * 3600 * 1000};
  int io_threads = 2;
  int blocking_threads = 8;
  int max_json_body = 1024 * 1024;         ///< bytes
  int max_upload_body = 16 * 1024 * 1024;  ///< bytes (screenplays)
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{75000};
  std::string cors_origins;     ///< comma-separated; "*" for any; empty: no CORS
  std::string grafana_url;      ///< the dashboards the web console links to; empty: none
  bool secure_cookies = false;  ///< Secure cookies on loopback http too (default: all but there)
  std::string trusted_proxies;  ///< comma-separated CIDRs whose X-Forwarded-For is believed
  int rate_limit_per_user = 600;
  int rate_limit_per_ip = 1200;
  int rate_limit_login_per_ip = 10;
  int max_streams_per_user = 8;  ///< event streams and large downloads open at once per user
};

/// Subscription plans (section `plans`).
struct plans_settings {
  std::string file;  ///< YAML plan table; empty: the built-in defaults
};

/// The mirror into Salesforce (section `crm`).
struct crm_settings {
  bool enabled = false;
  std::string login_url = "https://login.salesforce.com";
  std::string api_version = "59.0";
  std::string auth_flow = "jwt_bearer";  ///< jwt_bearer or client_credentials
  std::string client_id;
  std::string client_secret;
  std::string username;
  std::string private_key_file;
  std::string audience;
  int batch_size = 200;
  int bulk_threshold = 2000;
  std::chrono::milliseconds poll_interval{5000};
  std::chrono::milliseconds send_interval{1000};
};

/// Publishing to YouTube (section `youtube`; issue #11). Publishing is off
/// while client_id or token_key is empty.
struct youtube_settings {
  std::string client_id;      ///< Google OAuth client id
  std::string client_secret;  ///< Google OAuth client secret
  std::string redirect_uri;   ///< the gateway's /api/v1/youtube/callback as Google calls it
  std::string token_key;      ///< encrypts refresh tokens at rest and signs OAuth states
  std::string auth_url = "https://accounts.google.com/o/oauth2/v2/auth";
  std::string token_url = "https://oauth2.googleapis.com/token";
  std::string revoke_url = "https://oauth2.googleapis.com/revoke";
  std::string api_url = "https://www.googleapis.com/youtube/v3";
  std::string upload_url = "https://www.googleapis.com/upload/youtube/v3";
  int chunk_size = 8 << 20;  ///< bytes per PUT; a multiple of 256 KiB
};

/// The render farm's coordinator and its link to the nodes (section `farm`).
struct farm_settings {
  std::string bind = "tcp://127.0.0.1:7700";  ///< where the coordinator listens for nodes
  std::chrono::milliseconds heartbeat{1000};  ///< how often nodes and coordinator speak
  std::chrono::milliseconds lease_ttl{5000};  ///< silence after which a node is lost
};

/// How a screenplay becomes shots and how long each lasts (section `planner`).
struct planner_settings {
  int speaking_rate_wpm = 150;  ///< dialogue: spoken words per minute
  int reading_rate_wpm = 180;   ///< action: words per minute a viewer reads or sees
  std::chrono::milliseconds establishing_shot{3000};
  std::chrono::milliseconds min_shot{2000};
  std::chrono::milliseconds max_shot{20000};
  /// Credits per provider generation (the animatic is priced by the minute).
  int t2v_credits = 5;  ///< a shot from its text alone
  int i2v_credits = 8;  ///< a shot from its characters' reference images
};

/// The HTTP generation providers render nodes may use (section `providers`):
/// default endpoint URLs and the API keys, which are never taken from the
/// command line and never logged.
struct providers_settings {
  std::string comfyui_url;
  std::string comfyui_api_key;
  std::string replicate_url = "https://api.replicate.com";
  std::string replicate_api_token;
  std::string runpod_url = "https://api.runpod.ai";
  std::string runpod_api_key;
};

/// Payments through Stripe (section `billing`, issue #20).
struct billing_settings {
  /// The webhook endpoint's signing secret (`whsec_...` from Stripe's
  /// dashboard); empty: the webhook route answers 503 billing_disabled.
  std::string stripe_webhook_secret;
  /// The API secret key (sk_live_... / sk_test_...); empty: billing is off.
  std::string stripe_secret_key;
  std::string stripe_api_base = "https://api.stripe.com";
  std::string currency = "usd";
  /// "name:credits:price_cents,..." (billing::parse_credit_packs).
  std::string credit_packs = "small:100:1000,medium:500:4500,large:1000:8000";
  /// The Stripe coupon opted-in users get (created by Reelfarm if missing).
  std::string data_sharing_coupon = "reelfarm-data-sharing-10";
  /// Where Checkout and the customer portal send the browser back.
  std::string return_url = "http://127.0.0.1:8080/console/#/billing";
  /// How long a subscription whose renewal failed keeps its plan.
  std::chrono::milliseconds grace_period{7LL * 24 * 3600 * 1000};
};

/// The whole configuration of a `reelfarm` process: defaults, then the YAML
/// file, then `REELFARM_SECTION_KEY` environment variables, then flags.
struct config {
  log_settings log;
  embedded_settings embedded;
  postgres_settings postgres;
  redis_settings redis;
  gateway_settings gateway;
  planner_settings planner;
  farm_settings farm;
  plans_settings plans;
  crm_settings crm;
  providers_settings providers;
  youtube_settings youtube;
  billing_settings billing;
};

/// What a configuration key holds.
enum class config_type { string, integer, boolean, duration, choice };

/// One documented key of the configuration, as `reelfarm config keys` and
/// config/reelfarm.yaml describe it.
struct config_key_info {
  std::string_view section;
  std::string_view key;
  config_type type;
  std::string_view doc;
  bool secret;  ///< printed redacted
};

/// Where the configuration comes from besides the defaults.
struct config_sources {
  std::optional<std::string> file;       ///< YAML file (--config or REELFARM_CONFIG)
  std::vector<std::string> environment;  ///< "NAME=value" entries; usually `environ`
  std::vector<std::string> overrides;    ///< "section.key=value" from flags
};

/// Builds the configuration. Every problem is an error naming its source (the
/// file with line and column, the environment variable, or the flag), the key
/// and what was expected: unknown keys, wrong types and values out of range are
/// never ignored and never replaced by a default.
result<config> load_config(const config_sources& sources);

/// The process environment as "NAME=value" entries.
std::vector<std::string> process_environment();

/// Every configuration key, in file order.
std::vector<config_key_info> config_keys();

/// The effective value of every key as "section.key = value" lines; secrets redacted.
std::string describe(const config& cfg);

/// The environment variable that overrides `section.key`: REELFARM_SECTION_KEY.
std::string environment_name(std::string_view section, std::string_view key);

/// Parses "250ms", "5s", "2m" or "1h".
result<std::chrono::milliseconds> parse_duration(std::string_view text);
/// Formats a duration the way parse_duration reads it, in the largest exact unit.
std::string format_duration(std::chrono::milliseconds value);

}  // namespace reelfarm
