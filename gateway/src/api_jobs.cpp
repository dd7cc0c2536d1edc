// Render jobs: render, cancel and regenerate a project; a job's status and
// its cancellation. The gateway only writes PostgreSQL: a queued job is
// picked up by the render service's dispatcher (`reelfarm serve`, role
// coordinator), a cancelled one is stopped by it (docs/api.md).
#include <array>

#include "api_state.hpp"
#include "reelfarm/actors/errc.hpp"
#include "reelfarm/actors/shot_plan.hpp"
#include "reelfarm/store/errc.hpp"

namespace reelfarm::gateway {

namespace {

using json = nlohmann::json;

json parsed_or(const std::string& text, json fallback) {
  if (text.empty()) {
    return fallback;
  }
  auto j = json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

json nullable(const std::string& text) {
  return text.empty() ? json(nullptr) : json(text);
}

json job_json(const job_record& j) {
  return {{"id", j.id},
          {"project_id", j.project_id},
          {"kind", j.kind},
          {"status", j.status},
          {"progress", j.progress},
          {"current_step", j.current_step},
          {"shots_total", j.shots_total},
          {"shots_done", j.shots_done},
          {"cost_credits", j.cost_credits},
          {"settings", parsed_or(j.settings_json, json::object())},
          {"result", parsed_or(j.result_json, nullptr)},
          {"error", nullable(j.error)},
          {"created_at", j.created_at},
          {"started_at", nullable(j.started_at)},
          {"finished_at", nullable(j.finished_at)}};
}

json shot_json(const shot_record& s) {
  return {{"id", s.shot_id},
          {"scene_id", s.scene_id},
          {"position", s.position},
          {"status", s.status},
          {"progress", s.progress},
          {"current_step", s.current_step},
          {"attempts", s.attempts},
          {"duration_ms", s.duration_ms},
          {"node", nullable(s.node_id)},
          {"error", nullable(s.error)},
          {"reused_from", nullable(s.reused_from)}};
}

// Errors of pricing and planning: the user's screenplay or settings, the
// plan's limits and the balance, each with its own code.
http_response from_job_error(const error& e, const http_request& request) {
  if (e.is(actors_errc::plan_limit)) {
    return error_response(422, "plan_limit", e.message());
  }
  if (e.is(actors_errc::invalid_settings)) {
    return error_response(422, "invalid_settings", e.message());
  }
  if (e.category() == "screenplay") {
    return error_response(422, "invalid_screenplay", e.message());
  }
  if (e.is(store_errc::conflict)) {
    return error_response(409, "render_in_progress",
                          "the project already has a queued or running render; cancel it first");
  }
  return from_error(e, request);
}

// The caller's job, or the 404 every other user gets (admins see all).
std::variant<job_record, http_response> owned_job(api_state& s, request_context& ctx) {
  const auto& id = ctx.param("id");
  if (!is_uuid(id)) {
    return error_response(404, "not_found", "no job with id '" + id + "'");
  }
  auto job = s.jobs.get(id);
  if (!job) {
    return from_error(job.error(), ctx.request);
  }
  if (job->user_id != ctx.caller->user_id && !ctx.caller->is_admin()) {
    return error_response(404, "not_found", "no job with id '" + id + "'");
  }
  return *job;
}

std::variant<project_record, http_response> owned_project(api_state& s, request_context& ctx) {
  const auto& id = ctx.param("id");
  if (!is_uuid(id)) {
    return error_response(404, "not_found", "no project with id '" + id + "'");
  }
  auto project = s.projects.get(ctx.caller->user_id, id);
  if (!project) {
    return from_error(project.error(), ctx.request);
  }
  return *project;
}

constexpr std::array<field_spec, 1> render_fields{{
    {"settings", json_kind::object, false, 0},
}};

// The body is optional: an empty one renders with the project's settings.
std::variant<json, http_response> render_body(const http_request& request) {
  if (request.body.empty()) {
    return json::object();
  }
  auto parsed = parse_json_body(request, render_fields);
  if (auto* failed = std::get_if<http_response>(&parsed)) {
    return std::move(*failed);
  }
  return std::get<json>(parsed);
}

std::string settings_for(const project_record& p, const json& body) {
  if (body.contains("settings")) {
    return body["settings"].dump();
  }
  return p.settings_json.empty() ? std::string("{}") : p.settings_json;
}

// A shot whose backend no live node offers would wait out its timeout and
// fail the job after the other shots were rendered: refused now, naming what
// is on offer. When the farm cannot say (no node yet), the job is queued.
std::optional<http_response> check_backends(api_state& s, const actors::prepared_job& prepared) {
  std::set<std::string> needed;
  for (const auto& shot : prepared.shots) {
    if (!shot.has_segment()) {
      needed.insert(actors::lease_backend(shot.spec_json));
    }
  }
  if (needed.empty()) {
    return std::nullopt;
  }
  auto offered = live_backends(s);
  if (!offered) {
    return std::nullopt;
  }
  for (const auto& backend : needed) {
    if (offered->count(backend) == 0) {
      std::string on_offer;
      for (const auto& b : *offered) {
        on_offer += (on_offer.empty() ? "" : ", ") + b;
      }
      return error_response(422, "backend_unavailable",
                            "no live render node offers the backend \"" + backend +
                                "\"; on offer: " + (on_offer.empty() ? "none" : on_offer));
    }
  }
  return std::nullopt;
}

// Prices the film as the supervisor will and checks the plan's limits and
// the balance now, so the caller hears of a problem before anything queues.
// The supervisor checks again when it charges (in one transaction).
std::optional<http_response> precheck(api_state& s, request_context& ctx,
                                      const project_record& project, const std::string& settings,
                                      json& plan_out) {
  auto user = s.accounts.get(ctx.caller->user_id);
  if (!user) {
    return from_error(user.error(), ctx.request);
  }
  job_record draft;
  draft.project_id = project.id;
  draft.user_id = project.user_id;
  draft.status = "queued";
  draft.settings_json = settings;
  draft.script = project.script;
  draft.title = project.title;
  draft.user_plan = user->plan;
  auto prepared = actors::prepare_job(s.job_ctx, draft);
  if (!prepared) {
    return from_job_error(prepared.error(), ctx.request);
  }
  if (auto refused = check_backends(s, *prepared)) {
    return refused;
  }
  plan_out = {{"shots", prepared->shots.size()},
              {"duration_seconds", static_cast<double>(prepared->duration.count()) / 1000.0},
              {"cost_credits", prepared->cost_credits},
              {"price", price_json(prepared->price, s.job_ctx.prices)}};
  if (user->credits_unlimited || prepared->cost_credits == 0) {
    return std::nullopt;
  }
  auto balance = s.ledger.balance(user->id);
  if (!balance) {
    return from_error(balance.error(), ctx.request);
  }
  if (*balance < prepared->cost_credits) {
    return error_response(402, "insufficient_credits",
                          "this film costs " + std::to_string(prepared->cost_credits) +
                              " credits and the balance is " + std::to_string(*balance) +
                              "; buy credits or upgrade the plan");
  }
  return std::nullopt;
}

http_response accepted(const job_record& job, const json& plan) {
  json body = {{"job", job_json(job)}};
  if (!plan.is_null()) {
    body["plan"] = plan;
  }
  auto res = json_response(202, dump_json(body));
  res.set_header("Location", "/api/v1/jobs/" + job.id);
  return res;
}

/// A render or regenerate request: the caller's project and the settings to use.
struct render_request {
  project_record project;
  std::string settings;
};

std::variant<render_request, http_response> read_render_request(api_state& s,
                                                                request_context& ctx) {
  auto body = render_body(ctx.request);
  if (auto* failed = std::get_if<http_response>(&body)) {
    return std::move(*failed);
  }
  auto project = owned_project(s, ctx);
  if (auto* failed = std::get_if<http_response>(&project)) {
    return std::move(*failed);
  }
  auto& p = std::get<project_record>(project);
  auto settings = settings_for(p, std::get<json>(body));
  return render_request{std::move(p), std::move(settings)};
}

// What render and regenerate both check before anything is queued: a
// screenplay, settings the renderer can use, the plan's limits, the balance.
// A job is only written once all of them pass, so a bad request is a 4xx now
// and never a job that fails (or sits) later.
std::optional<http_response> check_render(api_state& s, request_context& ctx,
                                          const project_record& p, const std::string& settings,
                                          json& plan_out) {
  if (p.script.find_first_not_of(" \t\r\n") == std::string::npos) {
    return error_response(422, "invalid_screenplay",
                          "the project has no screenplay yet; PUT its script first");
  }
  return precheck(s, ctx, p, settings, plan_out);
}

http_response render_project(api_state& s, request_context& ctx) {
  auto request = read_render_request(s, ctx);
  if (auto* failed = std::get_if<http_response>(&request)) {
    return std::move(*failed);
  }
  const auto& [p, settings] = std::get<render_request>(request);
  json plan;
  if (auto refused = check_render(s, ctx, p, settings, plan)) {
    return std::move(*refused);
  }
  auto job = s.jobs.create(ctx.caller->user_id, p.id, "render", settings);
  if (!job) {
    return from_job_error(job.error(), ctx.request);
  }
  auto stored = s.jobs.get(job->id);
  return accepted(stored ? *stored : *job, plan);
}

http_response regenerate_project(api_state& s, request_context& ctx) {
  auto request = read_render_request(s, ctx);
  if (auto* failed = std::get_if<http_response>(&request)) {
    return std::move(*failed);
  }
  const auto& [p, settings] = std::get<render_request>(request);
  // Checked as a render is: the settings (the body's or the project's stored
  // ones) were never validated on this path, and a job with settings the
  // supervisor cannot parse would fail after queueing instead of now. The
  // price counts only the shots that must render again.
  json plan;
  if (auto refused = check_render(s, ctx, p, settings, plan)) {
    return std::move(*refused);
  }
  auto job = actors::regenerate(s.job_ctx, ctx.caller->user_id, p.id, settings);
  if (!job) {
    return from_job_error(job.error(), ctx.request);
  }
  auto stored = s.jobs.get(job->id);
  return accepted(stored ? *stored : *job, plan);
}

http_response cancel_job(api_state& s, request_context& ctx, const job_record& job) {
  if (job.finished()) {
    return error_response(409, "job_finished", "the job is already " + job.status);
  }
  auto outcome = s.jobs.cancel(job.id);
  if (!outcome) {
    return from_error(outcome.error(), ctx.request);
  }
  s.job_cache.forget(job.id);
  auto after = s.jobs.get(job.id);
  if (!after) {
    return from_error(after.error(), ctx.request);
  }
  bool charged = *outcome == cancel_outcome::charge_kept;
  return json_response(
      200, dump_json({{"job", job_json(*after)},
                      {"charge", charged ? "kept" : "none"},
                      {"message", charged ? "cancelled after the render started: the charge stays"
                                          : "cancelled before the render started: nothing "
                                            "was charged"}}));
}

http_response cancel_project(api_state& s, request_context& ctx) {
  auto project = owned_project(s, ctx);
  if (auto* failed = std::get_if<http_response>(&project)) {
    return std::move(*failed);
  }
  auto latest = s.jobs.latest_for_project(std::get<project_record>(project).id);
  if (!latest) {
    return from_error(latest.error(), ctx.request);
  }
  if (!*latest || (*latest)->finished()) {
    return error_response(409, "no_render", "the project has no queued or running render");
  }
  return cancel_job(s, ctx, **latest);
}

http_response delete_job(api_state& s, request_context& ctx) {
  auto job = owned_job(s, ctx);
  if (auto* failed = std::get_if<http_response>(&job)) {
    return std::move(*failed);
  }
  return cancel_job(s, ctx, std::get<job_record>(job));
}

http_response get_job(api_state& s, request_context& ctx) {
  const auto& id = ctx.param("id");
  bool with_shots = ctx.request.query_param("shots").value_or("") == "true";
  auto now = job_status_cache::clock::now();
  if (!with_shots) {
    if (auto hit = s.job_cache.get(id, now)) {
      if (hit->owner != ctx.caller->user_id && !ctx.caller->is_admin()) {
        return error_response(404, "not_found", "no job with id '" + id + "'");
      }
      return json_response(200, hit->body);
    }
  }
  auto job = owned_job(s, ctx);
  if (auto* failed = std::get_if<http_response>(&job)) {
    return std::move(*failed);
  }
  const auto& j = std::get<job_record>(job);
  auto body = job_json(j);
  if (!with_shots) {
    auto text = dump_json(body);
    s.job_cache.put(j.id, {j.user_id, text, j.finished(), now});
    return json_response(200, std::move(text));
  }
  auto shots = s.jobs.shots(j.id);
  if (!shots) {
    return from_error(shots.error(), ctx.request);
  }
  body["shots"] = json::array();
  for (const auto& shot : *shots) {
    body["shots"].push_back(shot_json(shot));
  }
  return json_response(200, dump_json(body));
}

}  // namespace

bool job_route_needs_blocking(const api_state& s, std::string_view method,
                              const std::string& job_id, std::string_view query) {
  // A cached job answers from memory on the I/O thread; anything else
  // (a miss, ?shots=true, a cancel) reads PostgreSQL on the blocking pool.
  return method != "GET" || query.find("shots=") != std::string_view::npos ||
         !s.job_cache.fresh(job_id, job_status_cache::clock::now());
}

void add_job_routes(api_state& s) {
  auto bind = [&s](http_response (*f)(api_state&, request_context&)) {
    return [&s, f](request_context& ctx) { return f(s, ctx); };
  };
  auto& r = s.routes;
  r.add({"POST", "/api/v1/projects/{id}/render", access::creator, limit_class::standard, true,
         bind(render_project)});
  r.add({"POST", "/api/v1/projects/{id}/cancel", access::creator, limit_class::standard, true,
         bind(cancel_project)});
  r.add({"POST", "/api/v1/projects/{id}/regenerate", access::creator, limit_class::standard, true,
         bind(regenerate_project)});
  r.add({"GET", "/api/v1/jobs/{id}", access::creator, limit_class::standard, true, bind(get_job)});
  r.add({"DELETE", "/api/v1/jobs/{id}", access::creator, limit_class::standard, true,
         bind(delete_job)});
}

}  // namespace reelfarm::gateway
