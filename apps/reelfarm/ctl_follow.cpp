// Following a render live: GET /projects/{id}/events (Server-Sent Events),
// reconnecting with Last-Event-ID when the stream drops or goes silent.
#include <thread>

#include "api_json.hpp"
#include "ctl_api.hpp"
#include "reelfarm/common/signals.hpp"
#include "sse_parser.hpp"

namespace reelfarm::app {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr auto silence_limit = 45s;  // the server sends a comment every 15 s
constexpr int max_fruitless_attempts = 10;

bool finished(const std::string& status) {
  return status == "complete" || status == "failed" || status == "cancelled";
}

progress_state to_state(const std::string& data) {
  auto j = json::parse(data, nullptr, false);
  progress_state s;
  s.job = text_of(j, "job");
  s.status = text_of(j, "status");
  s.percent = static_cast<int>(integer_or(j, "percent", 0));
  s.step = text_or(j, "step");
  s.shots_done = integer_or(j, "shots_done", 0);
  s.shots_total = integer_or(j, "shots_total", 0);
  s.error = text_or(j, "error");
  return s;
}

/// One connection to the event stream; remembers what it saw.
struct stream_attempt {
  std::string& last_id;
  std::string& job;
  progress_view& view;
  sse_parser parser;
  std::optional<progress_state> final_state;
  std::optional<reelfarm::error> failure;
  bool progressed = false;

  bool take(const sse_event& e) {
    if (!e.id.empty()) {
      last_id = e.id;
    }
    if (e.type == "error") {
      auto j = json::parse(e.data, nullptr, false);
      auto message = j.is_object() && j["error"].is_object()
                         ? text_or(j["error"], "message", "live progress was interrupted")
                         : std::string("live progress was interrupted");
      failure = error(ctl_errc::server, message);
      return false;
    }
    if (e.type != "state" && e.type != "progress") {
      return true;
    }
    auto s = to_state(e.data);
    if (job.empty()) {
      job = s.job;
    }
    if (s.job != job) {
      return true;
    }
    progressed = true;
    view.show(s);
    if (finished(s.status)) {
      final_state = s;
      return false;
    }
    return true;
  }

  bool on_chunk(std::string_view chunk) {
    try {
      for (const auto& e : parser.feed(chunk)) {
        if (!take(e)) {
          return false;
        }
      }
      return true;
    } catch (const std::exception& e) {  // a malformed event: never through libcurl
      failure = error(ctl_errc::malformed, std::string("bad progress event: ") + e.what());
      return false;
    }
  }
};

bool worth_retrying(const reelfarm::error& e) {
  return e.is(ctl_errc::unreachable) || e.is(ctl_errc::server);
}

}  // namespace

result<progress_state> follow_render(api_client& api, const std::string& project,
                                     const std::string& job_id, progress_view& view) {
  std::string last_id;
  std::string job = job_id;
  int fruitless = 0;
  for (;;) {
    stream_attempt attempt{last_id, job, view};
    http_request request;
    request.url = "/projects/" + project + "/events";
    request.timeout = 0s;
    request.silence_limit = silence_limit;
    if (!last_id.empty()) {
      request.headers.push_back("Last-Event-ID: " + last_id);
    }
    request.sink = [&](const http_response&, std::string_view chunk) {
      return attempt.on_chunk(chunk);
    };
    auto answer = api.fetch(std::move(request));
    if (attempt.final_state) {
      view.finish();
      return *attempt.final_state;
    }
    auto why = attempt.failure ? *attempt.failure
               : !answer       ? answer.error()
                               : error(ctl_errc::unreachable, "the server closed the stream");
    if (!worth_retrying(why)) {
      view.finish();
      return why;
    }
    fruitless = attempt.progressed ? 1 : fruitless + 1;
    if (fruitless > max_fruitless_attempts) {
      view.finish();
      return error(ctl_errc::unreachable, "gave up following the render: " + why.message());
    }
    view.finish();
    std::fprintf(stderr, "reelfarm ctl: %s; reconnecting\n", why.message().c_str());
    if (signals::wait_for_stop(std::chrono::seconds(std::min(fruitless, 5)))) {
      return error(ctl_errc::interrupted, "interrupted");
    }
  }
}

}  // namespace reelfarm::app
