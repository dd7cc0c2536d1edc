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
