// Live progress: GET /api/v1/projects/{id}/events as Server-Sent Events.
//
// The supervisor appends every progress and state change of the project's
// jobs to the Redis stream `project:events:<project>` (and publishes it on
// pub/sub for other followers). A follower reads the stream with a blocking
// XREAD on a connection of its own, so nothing published between two reads
// is lost, and the stream entry id is the SSE event id: a client that
// reconnects with Last-Event-ID gets exactly what it missed. A new follower
// first gets the project's latest job as a `state` event from PostgreSQL.
#include <atomic>
#include <regex>

#include "api_state.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/gateway/gateway_probe.hpp"
#include "reelfarm/store/redis_client.hpp"

namespace reelfarm::gateway {

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr auto keep_alive_every = 15s;
constexpr auto write_timeout = 10s;
constexpr auto read_block = 1000ms;

std::atomic<int> open_streams{0};

bool valid_event_id(std::string_view id) {
  static const std::regex pattern("^[0-9]{1,20}-[0-9]{1,20}$");
  return std::regex_match(id.begin(), id.end(), pattern);
}

std::string state_data(const job_record& j) {
  return json{{"job", j.id},
              {"project", j.project_id},
              {"status", j.status},
              {"percent", j.progress},
              {"step", j.current_step},
              {"shots_done", j.shots_done},
              {"shots_total", j.shots_total},
              {"cost_credits", j.cost_credits},
              {"error", j.error}}
      .dump();
}

std::string event_text(const std::string& id, const std::string& type, const std::string& data) {
  std::string out;
  if (!id.empty()) {
    out += "id: " + id + "\n";
  }
  out += "event: " + type + "\n";
  // Data lines may not contain newlines; JSON from dump() has none, but a
  // stray one must not split the event.
  std::string line;
  for (char c : data) {
    if (c == '\n' || c == '\r') {
      out += "data: " + line + "\n";
      line.clear();
    } else {
      line += c;
    }
  }
  out += "data: " + line + "\n\n";
  return out;
}

std::string error_event(const std::string& message) {
  return event_text({}, "error",
                    json{{"error", {{"code", "unavailable"}, {"message", message}}}}.dump());
}

struct follower {
  api_state& s;
  std::string project_id;
  std::string last_event_id;

  void run(int fd, std::string_view head, const std::atomic<bool>& stopping) {
    auto send = [&](std::string_view text) {
      return write_fully(fd, text, write_timeout, stopping);
    };
    if (!send(head) || !send("retry: 2000\n\n")) {
      return;
    }
    auto redis = redis_client::connect(s.redis_url, 5s);
    if (!redis) {
      log::warn("gateway", "live progress without Redis", {{"error", redis.error().message()}});
      send(error_event("live progress is unavailable right now; retry shortly"));
      return;
    }
    auto key = "project:events:" + project_id;
    std::string cursor = last_event_id;
    if (cursor.empty()) {
      auto last = redis->last_stream_id(key);
      if (!last) {
        send(error_event("live progress is unavailable right now; retry shortly"));
        return;
      }
      cursor = *last;
      auto latest = s.jobs.latest_for_project(project_id);
      if (latest && *latest && !send(event_text({}, "state", state_data(**latest)))) {
        return;
      }
    }
    follow(*redis, key, cursor, send, fd, stopping);
  }

  template <class Send>
  void follow(redis_client& redis, const std::string& key, std::string cursor, Send& send, int fd,
              const std::atomic<bool>& stopping) {
    auto quiet_since = std::chrono::steady_clock::now();
    while (!stopping.load() && !peer_gone(fd)) {
      auto entries = redis.read_stream(key, cursor, read_block, 100);
      if (!entries) {
        log::warn("gateway", "live progress lost Redis", {{"error", entries.error().message()}});
        send(error_event("live progress was interrupted; reconnect to resume"));
        return;
      }
      for (const auto& e : *entries) {
        auto type = e.field("type");
        if (!send(event_text(e.id, type.empty() ? "progress" : type, e.field("data")))) {
          return;
        }
        cursor = e.id;
      }
      auto now = std::chrono::steady_clock::now();
      if (!entries->empty()) {
        quiet_since = now;
      } else if (now - quiet_since >= keep_alive_every) {
        if (!send(": keep-alive\n\n")) {
          return;
        }
        quiet_since = now;
      }
    }
  }
};

http_response follow_project(api_state& s, request_context& ctx) {
  const auto& id = ctx.param("id");
  if (!is_uuid(id)) {
    return error_response(404, "not_found", "no project with id '" + id + "'");
  }
  std::string last_id;
  if (auto header = ctx.request.header("last-event-id")) {
    last_id = std::string(*header);
  } else if (auto param = ctx.request.query_param("last_event_id")) {
    last_id = *param;
  }
  if (!last_id.empty() && !valid_event_id(last_id)) {
    return error_response(400, "invalid_parameter",
                          "Last-Event-ID must be an event id this stream sent (digits-digits)");
  }
  auto project = s.projects.get(ctx.caller->user_id, id);
  if (!project) {
    return from_error(project.error(), ctx.request);
  }
  http_response res;
  res.content_type = "text/event-stream; charset=utf-8";
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  res.stream_owner = ctx.caller->user_id;  // counts against the user's stream cap
  auto f = std::make_shared<follower>(follower{s, id, last_id});
  res.takeover = [f](int fd, std::string_view head, const std::atomic<bool>& stopping) {
    set_event_streams(++open_streams);
    f->run(fd, head, stopping);
    set_event_streams(--open_streams);
  };
  return res;
}

}  // namespace

void add_event_routes(api_state& s) {
  s.routes.add({"GET", "/api/v1/projects/{id}/events", access::creator, limit_class::standard, true,
                [&s](request_context& ctx) { return follow_project(s, ctx); }});
}

}  // namespace reelfarm::gateway
