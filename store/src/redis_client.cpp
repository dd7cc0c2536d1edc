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

namespace {

using reply_ptr = std::unique_ptr<redisReply, decltype(&freeReplyObject)>;

// Runs one command given as separate (binary-safe) arguments; an error when
// the connection failed (no reply at all).
result<reply_ptr> run_argv(redisContext* context, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply == nullptr) {
    return error(store_errc::redis, "Redis command " + (args.empty() ? std::string() : args[0]) +
                                        " failed: " + std::string(context->errstr));
  }
  return reply_ptr(reply, &freeReplyObject);
}

}  // namespace

result<std::string> redis_client::command(const std::vector<std::string>& args) {
  auto ran = run_argv(context_.get(), args);
  if (!ran) {
    return ran.error();
  }
  const auto* reply = ran->get();
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

std::string stream_entry::field(const std::string& name) const {
  for (const auto& [key, value] : fields) {
    if (key == name) {
      return value;
    }
  }
  return {};
}

namespace {

std::string text_of(const redisReply* r) {
  return r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
             ? std::string(r->str, r->len)
             : std::string();
}

// [id, [field, value, ...]] entries, as XREAD and XREVRANGE give them.
result<std::vector<stream_entry>> entries_of(const redisReply* list) {
  std::vector<stream_entry> out;
  if (list == nullptr || list->type != REDIS_REPLY_ARRAY) {
    return error(store_errc::redis, "malformed stream reply");
  }
  for (std::size_t i = 0; i < list->elements; ++i) {
    const auto* e = list->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[1]->type != REDIS_REPLY_ARRAY) {
      return error(store_errc::redis, "malformed stream entry");
    }
    stream_entry entry{text_of(e->element[0]), {}};
    const auto* kv = e->element[1];
    for (std::size_t k = 0; k + 1 < kv->elements; k += 2) {
      entry.fields.emplace_back(text_of(kv->element[k]), text_of(kv->element[k + 1]));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

result<std::vector<stream_entry>> redis_client::read_stream(const std::string& key,
                                                            const std::string& after,
                                                            std::chrono::milliseconds block,
                                                            int count) {
  std::vector<std::string> args{"XREAD", "COUNT", std::to_string(count)};
  if (block.count() > 0) {
    args.insert(args.end(), {"BLOCK", std::to_string(block.count())});
  }
  args.insert(args.end(), {"STREAMS", key, after});
  auto ran = run_argv(context_.get(), args);
  if (!ran) {
    return ran.error();
  }
  const auto* reply = ran->get();
  if (reply->type == REDIS_REPLY_NIL) {
    return std::vector<stream_entry>{};
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    return error(store_errc::redis, std::string(reply->str, reply->len));
  }
  // [[key, entries]] for the one stream asked for.
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
      reply->element[0]->type != REDIS_REPLY_ARRAY || reply->element[0]->elements != 2) {
    return error(store_errc::redis, "malformed XREAD reply");
  }
  return entries_of(reply->element[0]->element[1]);
}

result<std::string> redis_client::last_stream_id(const std::string& key) {
  auto ran = run_argv(context_.get(), {"XREVRANGE", key, "+", "-", "COUNT", "1"});
  if (!ran) {
    return ran.error();
  }
  const auto* reply = ran->get();
  if (reply->type == REDIS_REPLY_ERROR) {
    return error(store_errc::redis, std::string(reply->str, reply->len));
  }
  auto entries = entries_of(reply);
  if (!entries) {
    return entries.error();
  }
  return entries->empty() ? std::string("0-0") : entries->front().id;
}

}  // namespace reelfarm
