// `reelfarm ctl submit|projects|watch|download|cancel|regenerate|job`.
#include "api_json.hpp"
#include "ctl_api.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/signals.hpp"

namespace reelfarm::app {
namespace {

using json = nlohmann::json;

bool usage_unless(const ctl_session& s, std::size_t words) {
  if (s.args.words.size() == words) {
    return false;
  }
  print_ctl_usage(stderr);
  return true;
}

// Prints the job and plan of a 202 answer (render or regenerate); returns the job id.
std::string print_accepted(const json& accepted) {
  const auto& job = member(accepted, "job");
  auto id = text_of(job, "id");
  std::printf("job %s %s\n", id.c_str(), text_or(job, "status", "queued").c_str());
  if (accepted.contains("plan") && accepted["plan"].is_object()) {
    const auto& plan = accepted["plan"];
    std::printf("plan: %lld shots, %.1f s, %lld credits\n",
                static_cast<long long>(integer_of(plan, "shots")),
                number_of(plan, "duration_seconds"),
                static_cast<long long>(integer_of(plan, "cost_credits")));
  }
  std::fflush(stdout);
  return id;
}

int print_outcome(const progress_state& s) {
  if (s.status == "complete") {
    std::printf("render %s complete\n", s.job.c_str());
    return exit_ok;
  }
  return fail("render " + s.job + " " + s.status + (s.error.empty() ? "" : ": " + s.error));
}

const char* or_dash(const std::string& text) {
  return text.empty() ? "-" : text.c_str();
}

}  // namespace

int watch_and_download(ctl_session& s, api_client& api, const std::string& project,
                       const std::string& job) {
  auto dir = s.args.value("--download");
  if (!s.args.has("--watch") && dir.empty() && s.args.words[0] != "watch") {
    std::printf("follow it with: reelfarm ctl watch %s\n", project.c_str());
    return exit_ok;
  }
  signals::install_stop_handlers();
  progress_view view(stdout);
  auto final_state = follow_render(api, project, job, view);
  if (!final_state) {
    if (final_state.error().is(ctl_errc::interrupted)) {
      std::fprintf(stderr, "reelfarm ctl: stopped following; the render goes on\n");
      return 130;
    }
    return fail(final_state.error());
  }
  auto code = print_outcome(*final_state);
  if (code != exit_ok || dir.empty()) {
    return code;
  }
  auto saved = download_media(api, project, dir);
  return saved ? exit_ok : fail(saved.error());
}

int ctl_submit(ctl_session& s) {
  if (usage_unless(s, 2)) {
    return exit_usage;
  }
  std::filesystem::path file = s.args.words[1];
  auto script = read_file(file);
  if (!script) {
    return fail(script.error());
  }
  auto title = s.args.value("--title", file.stem().string());
  auto api = s.client();
  auto project = api.call("POST", "/projects", json{{"title", title}, {"script", *script}});
  if (!project) {
    return fail(project.error());
  }
  auto id = text_of(*project, "id");
  std::printf("project %s \"%s\" created\n", id.c_str(), title.c_str());
  auto accepted = api.call("POST", "/projects/" + id + "/render");
  if (!accepted) {
    return fail(accepted.error());
  }
  auto job = print_accepted(*accepted);
  return watch_and_download(s, api, id, job);
}

int ctl_regenerate(ctl_session& s) {
  if (usage_unless(s, 2)) {
    return exit_usage;
  }
  auto api = s.client();
  auto accepted = api.call("POST", "/projects/" + s.args.words[1] + "/regenerate");
  if (!accepted) {
    return fail(accepted.error());
  }
  auto job = print_accepted(*accepted);
  return watch_and_download(s, api, s.args.words[1], job);
}

int ctl_watch(ctl_session& s) {
  if (usage_unless(s, 2)) {
    return exit_usage;
  }
  auto api = s.client();
  auto project = api.call("GET", "/projects/" + s.args.words[1]);
  if (!project) {
    return fail(project.error());
  }
  if (text_of(*project, "status") == "pending") {
    return fail("project " + s.args.words[1] + " has never been rendered");
  }
  return watch_and_download(s, api, s.args.words[1], "");
}

int ctl_download(ctl_session& s) {
  if (usage_unless(s, 3)) {
    return exit_usage;
  }
  auto api = s.client();
  auto saved = download_media(api, s.args.words[1], s.args.words[2]);
  return saved ? exit_ok : fail(saved.error());
}

int ctl_cancel(ctl_session& s) {
  if (usage_unless(s, 2)) {
    return exit_usage;
  }
  auto api = s.client();
  auto outcome = api.call("POST", "/projects/" + s.args.words[1] + "/cancel");
  if (!outcome) {
    return fail(outcome.error());
  }
  std::printf("job %s cancelled; charge: %s\n", text_of(member(*outcome, "job"), "id").c_str(),
              text_of(*outcome, "charge").c_str());
  return exit_ok;
}

int ctl_projects(ctl_session& s) {
  bool list = s.args.words.size() == 1 || (s.args.words.size() == 2 && s.args.words[1] == "list");
  if (!list) {
    print_ctl_usage(stderr);
    return exit_usage;
  }
  auto api = s.client();
  auto page = api.call("GET", "/projects?limit=100");
  if (!page) {
    return fail(page.error());
  }
  if (s.args.has("--json")) {
    std::puts(page->dump(2).c_str());
    return exit_ok;
  }
  std::printf("%-36s  %-10s  %7s  %8s  %s\n", "PROJECT", "STATUS", "CREDITS", "DURATION", "TITLE");
  for (const auto& p : array_of(*page, "items")) {
    auto duration = p.contains("video_duration") && p["video_duration"].is_number()
                        ? std::to_string(static_cast<int>(number_of(p, "video_duration"))) + " s"
                        : std::string("-");
    std::printf("%-36s  %-10s  %7lld  %8s  %s\n", text_of(p, "id").c_str(),
                text_of(p, "status").c_str(),
                static_cast<long long>(integer_or(p, "credits_used", 0)), duration.c_str(),
                text_of(p, "title").c_str());
  }
  std::printf("%lld projects\n", static_cast<long long>(integer_of(*page, "total")));
  return exit_ok;
}

int ctl_job(ctl_session& s) {
  if (usage_unless(s, 2)) {
    return exit_usage;
  }
  auto api = s.client();
  auto job =
      api.call("GET", "/jobs/" + s.args.words[1] + (s.args.has("--shots") ? "?shots=true" : ""));
  if (!job) {
    return fail(job.error());
  }
  if (s.args.has("--json")) {
    std::puts(job->dump(2).c_str());
    return exit_ok;
  }
  const auto& j = *job;
  std::printf("job        %s (%s)\nproject    %s\nstatus     %s, %lld%%, %s\n",
              text_of(j, "id").c_str(), text_or(j, "kind", "-").c_str(),
              text_of(j, "project_id").c_str(), text_of(j, "status").c_str(),
              static_cast<long long>(integer_or(j, "progress", 0)),
              or_dash(text_or(j, "current_step")));
  std::printf("shots      %lld/%lld\ncost       %lld credits\n",
              static_cast<long long>(integer_or(j, "shots_done", 0)),
              static_cast<long long>(integer_or(j, "shots_total", 0)),
              static_cast<long long>(integer_or(j, "cost_credits", 0)));
  std::printf("created    %s\nstarted    %s\nfinished   %s\n", or_dash(text_or(j, "created_at")),
              or_dash(text_or(j, "started_at")), or_dash(text_or(j, "finished_at")));
  if (auto e = text_or(j, "error"); !e.empty()) {
    std::printf("error      %s\n", e.c_str());
  }
  if (j.contains("shots") && j["shots"].is_array()) {
    std::printf("%-4s  %-10s  %-8s  %-24s  %s\n", "#", "STATUS", "ATTEMPTS", "NODE", "REUSED FROM");
    for (const auto& shot : j["shots"]) {
      std::printf("%-4lld  %-10s  %-8lld  %-24s  %s\n",
                  static_cast<long long>(integer_or(shot, "position", 0)),
                  text_of(shot, "status").c_str(),
                  static_cast<long long>(integer_or(shot, "attempts", 0)),
                  or_dash(text_or(shot, "node")), or_dash(text_or(shot, "reused_from")));
    }
  }
  return exit_ok;
}

}  // namespace reelfarm::app
