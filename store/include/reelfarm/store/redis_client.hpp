#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"

struct redisContext;

namespace reelfarm {

/// The parts of a `redis://[user[:password]@]host[:port][/db]` URL.
struct redis_url {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;
  std::string password;
  int database = 0;
};

/// Parses a Redis URL; errors say what part is wrong.
result<redis_url> parse_redis_url(const std::string& url);

/// One entry of a Redis stream: its id ("1700000000000-0") and fields.
struct stream_entry {
  std::string id;
  std::vector<std::pair<std::string, std::string>> fields;

  /// The value of `name`, or "" when the entry has no such field.
  std::string field(const std::string& name) const;
};

/// One synchronous connection to Redis (hiredis), authenticated and on the
/// URL's database. Not thread-safe: one per thread or behind a pool.
class redis_client {
 public:
  /// Connects with `timeout` for the connection and for every command.
  static result<redis_client> connect(const std::string& url, std::chrono::milliseconds timeout);

  redis_client(redis_client&&) noexcept = default;
  redis_client& operator=(redis_client&&) noexcept = default;
  ~redis_client();

  /// Runs one command given as separate arguments (binary safe) and returns
  /// its reply as text: status and bulk strings as is, integers in decimal,
  /// nil as an empty string. Error replies become errors.
  result<std::string> command(const std::vector<std::string>& args);

  /// XREAD: up to `count` entries of the stream `key` after the id `after`
  /// ("0-0": from the start), waiting up to `block` (0: not at all) when
  /// there are none yet. The connection's timeout must exceed `block`.
  result<std::vector<stream_entry>> read_stream(const std::string& key, const std::string& after,
                                                std::chrono::milliseconds block, int count);
  /// The id of the stream's newest entry; "0-0" when it is empty or missing.
  result<std::string> last_stream_id(const std::string& key);

  /// One field of `INFO server`, e.g. "redis_version".
  result<std::string> server_info(const std::string& field);

 private:
  struct context_deleter {
    void operator()(redisContext* c) const;
  };
  explicit redis_client(redisContext* c) : context_(c) {}
  std::unique_ptr<redisContext, context_deleter> context_;
};

}  // namespace reelfarm
