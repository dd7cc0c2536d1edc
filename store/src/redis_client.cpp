#include "reelfarm/store/redis_client.hpp"

#include <hiredis/hiredis.h>

#include <charconv>

#include "reelfarm/store/errc.hpp"

namespace reelfarm {
namespace {

timeval to_timeval(std::chrono::milliseconds d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((d.count() % 1000) * 1000);
  return tv;
}

bool parse_int(std::string_view text, int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

result<redis_url> parse_redis_url(const std::string& url) {
  auto bad = [&](const std::string& why) {
    return error(store_errc::invalid_url, "Redis URL is not valid (" + why +
                                              "); expected redis://[:password@]host[:port][/db]");
  };
  constexpr std::string_view scheme = "redis://";
  if (!std::string_view(url).starts_with(scheme)) {
    return bad("it must start with redis://");
  }
  redis_url out;
  std::string rest = url.substr(scheme.size());
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    auto credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = credentials.find(':');
    if (colon == std::string::npos) {
      out.user = credentials;
    } else {
      out.user = credentials.substr(0, colon);
      out.password = credentials.substr(colon + 1);
    }
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    auto db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty() && (!parse_int(db, out.database) || out.database < 0)) {
      return bad("database '" + db + "' is not a number");
    }
  }
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    auto port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!parse_int(port, out.port) || out.port <= 0 || out.port > 65535) {
      return bad("port '" + port + "' is not a port number");
    }
  }
  if (!rest.empty()) {
    out.host = rest;
  }
  return out;
}

void redis_client::context_deleter::operator()(redisContext* c) const {
  redisFree(c);
}

redis_client::~redis_client() = default;

result<redis_client> redis_client::connect(const std::string& url,
                                           std::chrono::milliseconds timeout) {
  auto parsed = parse_redis_url(url);
  if (!parsed) {
    return std::move(parsed).error();
  }
  auto tv = to_timeval(timeout);
  redisContext* raw = redisConnectWithTimeout(parsed->host.c_str(), parsed->port, tv);
  if (raw == nullptr) {
    return error(store_errc::connection, "cannot allocate a Redis connection");
  }
  redis_client client(raw);
  auto where = parsed->host + ":" + std::to_string(parsed->port);
  if (raw->err != 0) {
    return error(store_errc::connection,
                 "cannot connect to Redis at " + where + ": " + std::string(raw->errstr));
  }
  redisSetTimeout(raw, tv);
  if (!parsed->password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!parsed->user.empty()) {
      auth.push_back(parsed->user);
    }
    auth.push_back(parsed->password);
    if (auto r = client.command(auth); !r) {
      return error(store_errc::connection,
                   "Redis at " + where + " refused the credentials: " + r.error().message());
    }
  }
  if (parsed->database != 0) {
    if (auto r = client.command({"SELECT", std::to_string(parsed->database)}); !r) {
      return std::move(r).error();
    }
  }
  return client;
}

result<std::string> redis_client::command(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply == nullptr) {
    return error(store_errc::redis, "Redis command " + (args.empty() ? std::string() : args[0]) +
                                        " failed: " + std::string(context_->errstr));
  }
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> guard(reply, &freeReplyObject);
  switch (reply->type) {
    case REDIS_REPLY_ERROR:
      return error(store_errc::redis, std::string(reply->str, reply->len));
    case REDIS_REPLY_INTEGER:
      return std::to_string(reply->integer);
    case REDIS_REPLY_NIL:
      return std::string();
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(reply->str, reply->len);
    default:
      return error(store_errc::redis,
                   "unexpected reply type " + std::to_string(reply->type) + " to " + args[0]);
  }
}

result<std::string> redis_client::server_info(const std::string& field) {
  auto info = command({"INFO", "server"});
  if (!info) {
    return info;
  }
  auto key = field + ":";
  auto pos = info->find(key);
  if (pos == std::string::npos) {
    return error(store_errc::redis, "INFO server has no field " + field);
  }
  auto begin = pos + key.size();
  auto end = info->find_first_of("\r\n", begin);
  return info->substr(begin, end - begin);
}

}  // namespace reelfarm
