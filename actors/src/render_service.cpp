// The render actors (CAF 0.17): a farm bridge, one project supervisor per
// job, a scene actor per scene and a shot actor per shot to render. The only
// TU that includes CAF in this library: job logic lives in job_control.cpp.
//
// Supervision: shot actors are monitored by their scene actor, which restarts
// a crashed one (up to `shot_restarts` times); scene actors by the
// supervisor, which fails the job (with the refund) when one dies. A job's
// actors touch no other job's, so one failing project leaves others alone.
// Only the supervisor writes the job's rows, so its writes are ordered.
//
// Nodes are untrusted: the supervisor accepts a rendered shot only after
// check_artifact (job_control.hpp) and reads its sidecar under the same rules;
// a refused result sends the shot back to the farm in a scene actor of its
// own, like a failed render, up to `max_refused_results` times.
#include "reelfarm/actors/render_service.hpp"

#include <caf/all.hpp>

#include <map>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "reelfarm/actors/errc.hpp"
#include "reelfarm/actors/media_layout.hpp"
#include "reelfarm/actors/shot_plan.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/coordinator/coordinator.hpp"
#include "reelfarm/store/redis_client.hpp"

using shot_request_ptr = std::shared_ptr<const reelfarm::farm::shot_request>;
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(shot_request_ptr)

namespace reelfarm::actors {
namespace {

using json = nlohmann::json;
using start_atom = caf::atom_constant<caf::atom("start")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using submit_atom = caf::atom_constant<caf::atom("submit")>;
using outcome_atom = caf::atom_constant<caf::atom("outcome")>;
using shot_ok_atom = caf::atom_constant<caf::atom("shotok")>;
using shot_bad_atom = caf::atom_constant<caf::atom("shotbad")>;
using shot_run_atom = caf::atom_constant<caf::atom("shotrun")>;
using scene_ok_atom = caf::atom_constant<caf::atom("sceneok")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;

/// What every actor of the service shares (read-only after start, except the
/// views map, which has its own mutex).
struct shared_context {
  render_service_options options;
  caf::actor bridge;
  mutable std::mutex views_mutex;
  std::map<std::string, job_view> views;

  void publish_view(const job_view& v) {
    std::lock_guard lock(views_mutex);
    views[v.job_id] = v;
  }
};
using context_ptr = std::shared_ptr<shared_context>;

std::string farm_shot_id(const std::string& job_id, const std::string& shot_id) {
  return job_id + "/" + shot_id;
}

// --- the bridge: coordinator outcomes -> shot actors ------------------------

// actor_state_note: every actor state declares its default constructor. CAF
// 0.17's stateful_actor builds the state from the actor pointer whenever
// std::is_constructible<State, stateful_actor*> holds, and C++20's
// parenthesized aggregate initialization makes that true for a plain
// aggregate: its first member is initialised from the pointer (a `bool
// stopping` became true, so crashed shot actors were never restarted). A
// user-declared constructor makes the state a non-aggregate again.
struct bridge_state {
  bridge_state() = default;                                    // see actor_state_note
  std::map<std::string, caf::actor> waiting;                   // farm shot id -> shot actor
  std::map<std::string, std::vector<caf::message>> unclaimed;  // outcomes nobody waits for yet
};

caf::message outcome_message(const farm::shot_outcome& o) {
  return caf::make_message(outcome_atom::value, o.shot_id, static_cast<int>(o.status), o.artifact,
                           o.checksum, o.node_id, o.reason);
}

caf::behavior bridge_actor(caf::stateful_actor<bridge_state>* self, context_ptr ctx) {
  self->send(self, tick_atom::value);
  return {
      // A shot actor (first or restarted) asks for its shot; an outcome that
      // arrived while no actor waited (a restart in between) is replayed.
      [=](submit_atom, const std::string& id, caf::actor who, shot_request_ptr request) {
        auto& st = self->state;
        if (auto it = st.unclaimed.find(id); it != st.unclaimed.end()) {
          for (auto& m : it->second) {
            self->send(who, m);
          }
          st.unclaimed.erase(it);
          return;
        }
        bool resubmit = st.waiting.count(id) != 0;  // still queued or leased: keep it
        st.waiting[id] = who;
        if (!resubmit) {
          ctx->options.coordinator->submit(*request);
        }
      },
      [=](cancel_atom, const std::string& id) {
        self->state.waiting.erase(id);
        ctx->options.coordinator->cancel(id);
      },
      [=](tick_atom) {
        for (auto& o : ctx->options.coordinator->take_outcomes()) {
          auto& st = self->state;
          auto msg = outcome_message(o);
          if (auto it = st.waiting.find(o.shot_id); it != st.waiting.end()) {
            self->send(it->second, msg);
            st.waiting.erase(it);
          } else {
            st.unclaimed[o.shot_id].push_back(msg);
          }
        }
        self->delayed_send(self, std::chrono::milliseconds(40), tick_atom::value);
      },
  };
}

// --- shot actor ---------------------------------------------------------------

struct shot_state {
  shot_state() = default;  // see actor_state_note
  shot_record shot;
};

caf::behavior shot_actor(caf::stateful_actor<shot_state>* self, context_ptr ctx, caf::actor scene,
                         shot_request_ptr request, shot_record shot, int incarnation) {
  self->state.shot = std::move(shot);
  self->send(self, start_atom::value);
  return {
      [=](start_atom) {
        const auto& s = self->state.shot;
        if (ctx->options.shot_fault) {
          try {
            ctx->options.shot_fault(s.shot_id, incarnation);
          } catch (const std::exception& e) {
            log::warn("actors", "shot actor crashed",
                      {{"shot", s.shot_id}, {"incarnation", incarnation}, {"error", e.what()}});
            self->quit(caf::make_error(caf::sec::runtime_error, e.what()));
            return;
          }
        }
        self->send(ctx->bridge, submit_atom::value, request->shot_id,
                   caf::actor_cast<caf::actor>(self), request);
        self->send(scene, shot_run_atom::value, s.position);
        self->delayed_send(self, ctx->options.shot_timeout, timeout_atom::value);
      },
      [=](timeout_atom) {
        const auto& s = self->state.shot;
        self->send(ctx->bridge, cancel_atom::value, request->shot_id);
        self->send(scene, shot_bad_atom::value, s.position,
                   "shot " + s.shot_id + " was not rendered within " +
                       std::to_string(ctx->options.shot_timeout.count() / 1000) +
                       " s (every node failed it or none can take it)");
        self->quit();
      },
      [=](outcome_atom, const std::string&, int status, const std::string& artifact,
          const std::string& checksum, const std::string& node, const std::string& reason) {
        const auto& s = self->state.shot;
        if (status == static_cast<int>(farm::shot_status::done)) {
          self->send(scene, shot_ok_atom::value, s.position, artifact, checksum, node);
        } else {
          self->send(scene, shot_bad_atom::value, s.position,
                     status == static_cast<int>(farm::shot_status::cancelled)
                         ? "cancelled"
                         : "shot " + s.shot_id + " failed: " + reason);
        }
        self->quit();
      },
  };
}

// --- scene actor ----------------------------------------------------------------

struct scene_state {
  scene_state() = default;  // see actor_state_note
  bool stopping = false;
  // Strong references: an actor nobody references becomes unreachable and
  // is terminated by CAF, so parents hold their children.
  std::map<caf::actor_addr, std::pair<caf::actor, int>> children;  // -> (actor, position)
  std::map<int, shot_record> pending;                              // position -> shot
  std::map<int, int> incarnations;
};

struct scene_args {
  context_ptr ctx;
  caf::actor supervisor;
  std::string job_id;
  std::string user_id;
  farm::plan_priority priority;
};

shot_request_ptr request_for(const scene_args& a, const shot_record& s) {
  auto r = std::make_shared<farm::shot_request>();
  r->shot_id = farm_shot_id(a.job_id, s.shot_id);
  r->job_id = a.job_id;
  r->user_id = a.user_id;
  r->priority = a.priority;
  r->backend = lease_backend(s.spec_json);
  r->spec = s.spec_json;
  return r;
}

void spawn_shot(caf::stateful_actor<scene_state>* self, const scene_args& a, int position) {
  auto& st = self->state;
  const auto& s = st.pending.at(position);
  // Spawned monitored: a child that dies before a separate monitor() call
  // would otherwise go unnoticed.
  auto child = self->spawn<caf::monitored>(shot_actor, a.ctx, caf::actor_cast<caf::actor>(self),
                                           request_for(a, s), s, st.incarnations[position]);
  st.children[child.address()] = {child, position};
}

caf::behavior scene_actor(caf::stateful_actor<scene_state>* self, scene_args a,
                          std::vector<shot_record> shots) {
  for (auto& s : shots) {
    self->state.pending[s.position] = std::move(s);
  }
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    auto it = st.children.find(dm.source);
    if (it == st.children.end()) {
      return;
    }
    int position = it->second.second;
    st.children.erase(it);
    if (!dm.reason || !st.pending.count(position)) {
      return;  // finished normally
    }
    // Shutdown reaches shot actors only through this scene's exit handler.
    if (st.stopping) {
      return;
    }
    if (++st.incarnations[position] > a.ctx->options.shot_restarts) {
      self->send(a.supervisor, shot_bad_atom::value, position,
                 "shot " + st.pending.at(position).shot_id + " crashed " +
                     std::to_string(st.incarnations[position]) +
                     " times: " + caf::to_string(dm.reason));
      return;
    }
    log::warn("actors", "restarting a crashed shot actor",
              {{"shot", st.pending.at(position).shot_id},
               {"restart", st.incarnations[position]},
               {"reason", caf::to_string(dm.reason)}});
    spawn_shot(self, a, position);
  });
  self->set_exit_handler([=](caf::exit_msg& em) {
    if (self->state.children.count(em.source) != 0) {
      return;  // a child's own exit (CAF links it): the down handler decides
    }
    self->state.stopping = true;
    for (const auto& [addr, child] : self->state.children) {
      self->send_exit(child.first, em.reason);
    }
    self->quit(em.reason);
  });
  for (const auto& [position, shot] : self->state.pending) {
    spawn_shot(self, a, position);
  }
  return {
      [=](shot_run_atom, int position) {
        self->send(a.supervisor, shot_run_atom::value, position);
      },
      [=](shot_ok_atom, int position, const std::string& artifact, const std::string& checksum,
          const std::string& node) {
        self->state.pending.erase(position);
        self->send(a.supervisor, shot_ok_atom::value, position, artifact, checksum, node);
        if (self->state.pending.empty()) {
          self->send(a.supervisor, scene_ok_atom::value);
          self->quit();
        }
      },
      [=](shot_bad_atom, int position, const std::string& why) {
        self->send(a.supervisor, shot_bad_atom::value, position, why);
      },
  };
}

// --- project supervisor -----------------------------------------------------------

/// Results of one shot the supervisor may refuse before the job fails. The
/// farm forgets a shot once it reported it done, so a retry may go to the
/// same node; a few refusals tell a bad node or shared folder from bad luck.
constexpr int max_refused_results = 3;

struct supervisor_state {
  supervisor_state() = default;  // see actor_state_note
  job_record job;
  std::vector<shot_record> shots;                // by position
  std::map<caf::actor_addr, caf::actor> scenes;  // strong: see scene_state
  std::map<int, int> refused;                    // position -> results refused
  job_view view;
  std::optional<redis_client> redis;
  bool over = false;
};

using supervisor_ptr = caf::stateful_actor<supervisor_state>*;

void publish(supervisor_ptr self, const context_ptr& ctx) {
  auto& v = self->state.view;
  ctx->publish_view(v);
  auto& redis = self->state.redis;
  if (!redis) {
    return;
  }
  auto text = json{
      {"job", v.job_id},
      {"project", v.project_id},
      {"status", v.status},
      {"percent", v.percent},
      {"step", v.step},
      {"shots_done", v.shots_done},
      {"shots_total", v.shots_total},
      {"cost_credits", v.cost_credits},
      {"error",
       v.error}}.dump();
  auto set = redis->command({"SET", "job:status:" + v.job_id, text, "EX", "604800"});
  auto pub = redis->command({"PUBLISH", "job:progress:" + v.job_id, text});
  // The project's event stream: what GET /projects/{id}/events follows and
  // resumes from (Last-Event-ID is the stream entry id). Bounded and expiring.
  auto add = v.project_id.empty()
                 ? result<std::string>(std::string())
                 : redis->command({"XADD", "project:events:" + v.project_id, "MAXLEN", "~", "1000",
                                   "*", "type", v.finished() ? "state" : "progress", "data", text});
  if (add && !v.project_id.empty()) {
    (void)redis->command({"EXPIRE", "project:events:" + v.project_id, "604800"});
  }
  if (!set || !pub || !add) {
    auto& why = !set ? set.error() : !pub ? pub.error() : add.error();
    log::warn("actors", "cannot publish progress; continuing without Redis",
              {{"job", v.job_id}, {"error", why.message()}});
    redis.reset();
  }
}

void refresh_counts(supervisor_ptr self) {
  auto& st = self->state;
  auto& v = st.view;
  v.shots_total = static_cast<int>(st.shots.size());
  v.shots_done = 0;
  v.ms_done = 0;
  v.ms_total = 0;
  for (const auto& s : st.shots) {
    v.ms_total += s.duration_ms;
    if (s.has_segment()) {
      ++v.shots_done;
      v.ms_done += s.duration_ms;
    }
  }
  // Shots are 90 % of the work, weighted by film time; assembly the rest.
  v.percent = v.ms_total == 0 ? 90 : static_cast<int>(2 + 88 * v.ms_done / v.ms_total);
  v.step = "rendering shots " + std::to_string(v.shots_done) + "/" + std::to_string(v.shots_total);
}

void persist_progress(supervisor_ptr self, const context_ptr& ctx) {
  auto& v = self->state.view;
  if (auto r = ctx->options.jobs.jobs->set_progress(v.job_id, v.percent, v.step, v.shots_done);
      !r) {
    log::warn("actors", "cannot persist progress",
              {{"job", v.job_id}, {"error", r.error().message()}});
  }
  publish(self, ctx);
}

void end_job(supervisor_ptr self, const context_ptr& ctx, const job_record& final_job) {
  auto& v = self->state.view;
  v.status = final_job.status;
  v.step = final_job.current_step;
  v.error = final_job.error;
  if (final_job.status == "complete") {
    v.percent = 100;
  }
  publish(self, ctx);
  self->state.over = true;
  for (const auto& [addr, scene] : self->state.scenes) {
    self->send_exit(scene, caf::exit_reason::user_shutdown);
  }
  self->quit();
}

void fail_job(supervisor_ptr self, const context_ptr& ctx, const std::string& why) {
  if (self->state.over) {
    return;
  }
  log::error("actors", "render failed", {{"job", self->state.view.job_id}, {"error", why}});
  for (const auto& s : self->state.shots) {
    if (!s.has_segment()) {
      self->send(ctx->bridge, cancel_atom::value, farm_shot_id(self->state.view.job_id, s.shot_id));
    }
  }
  auto failed = ctx->options.jobs.jobs->fail(self->state.view.job_id, why);
  if (!failed) {
    // The job stays processing in PostgreSQL and is failed (and refunded)
    // by the next supervisor that resumes it.
    log::error("actors", "cannot record the failure", {{"error", failed.error().message()}});
    self->state.view.status = "failed";
    self->state.view.error = why;
    self->state.over = true;
    publish(self, ctx);
    self->quit();
    return;
  }
  end_job(self, ctx, *failed);
}

void finish_film(supervisor_ptr self, const context_ptr& ctx) {
  auto& st = self->state;
  st.view.percent = 92;
  st.view.step = "assembling film";
  persist_progress(self, ctx);
  auto film = assemble_job_film(ctx->options.jobs, st.job, st.shots);
  if (!film) {
    fail_job(self, ctx, film.error().message());
    return;
  }
  auto done = ctx->options.jobs.jobs->complete(st.job.id, *film);
  if (!done) {
    fail_job(self, ctx, done.error().message());
    return;
  }
  log::info("actors", "film complete", {{"job", st.job.id}, {"video", film->video_url}});
  end_job(self, ctx, *done);
}

// Plans and charges a queued job, or loads a processing one; false when the
// job ended here (failed before start, or already finished).
bool load_job(supervisor_ptr self, const context_ptr& ctx, const std::string& job_id) {
  auto& st = self->state;
  auto& jobs = *ctx->options.jobs.jobs;
  auto job = jobs.get(job_id);
  if (!job) {
    log::error("actors", "cannot load job", {{"job", job_id}, {"error", job.error().message()}});
    st.view.status = "failed";
    st.view.error = job.error().message();
    return false;
  }
  st.view.project_id = job->project_id;
  st.view.user_id = job->user_id;
  if (job->finished()) {
    end_job(self, ctx, *job);
    return false;
  }
  st.view.status = "processing";
  if (job->status == "queued") {
    st.view.step = "planning";
    publish(self, ctx);
    auto prepared = prepare_job(ctx->options.jobs, *job);
    auto started = prepared ? start_job(ctx->options.jobs, *prepared) : prepared.error();
    if (!started) {
      // Nothing was charged: the charge commits only with "processing".
      fail_job(self, ctx, started.error().message());
      return false;
    }
    job = started;
  }
  st.job = *job;
  st.view.cost_credits = job->cost_credits;
  auto shots = jobs.shots(job_id);
  if (!shots) {
    fail_job(self, ctx, shots.error().message());
    return false;
  }
  st.shots = std::move(shots).value();
  return true;
}

// A scene actor for `shots` (of one scene), monitored and held by the supervisor.
void spawn_scene(supervisor_ptr self, const context_ptr& ctx, std::vector<shot_record> shots) {
  auto& st = self->state;
  const auto* plan = ctx->options.jobs.plans.find(st.job.user_plan);
  scene_args args{ctx, caf::actor_cast<caf::actor>(self), st.job.id, st.job.user_id,
                  plan != nullptr && plan->priority ? farm::plan_priority::priority
                                                    : farm::plan_priority::standard};
  auto scene = self->spawn<caf::monitored>(scene_actor, std::move(args), std::move(shots));
  st.scenes.emplace(scene.address(), scene);
}

void spawn_scenes(supervisor_ptr self, const context_ptr& ctx) {
  std::map<std::string, std::vector<shot_record>> by_scene;
  for (const auto& s : self->state.shots) {
    if (!s.has_segment()) {
      by_scene[s.scene_id].push_back(s);
    }
  }
  for (auto& [scene_id, shots] : by_scene) {
    spawn_scene(self, ctx, std::move(shots));
  }
}

// A node's result that cannot be accepted counts as a failed render: logged
// (node, shot and reason only, never what the file holds), recorded on the
// shot, and the shot goes back to the farm, unless it was refused too often.
void refuse_result(supervisor_ptr self, const context_ptr& ctx, int position,
                   const std::string& node, const error& why) {
  auto& st = self->state;
  if (st.over) {
    return;
  }
  auto& shot = st.shots.at(static_cast<std::size_t>(position));
  int refused = ++st.refused[position];
  log::warn("actors", "shot result refused",
            {{"job", st.job.id},
             {"shot", shot.shot_id},
             {"node", node},
             {"refused", refused},
             {"reason", why.message()}});
  auto what = "result of node " + node + " refused: " + why.message();
  if (auto* farm = ctx->options.coordinator; farm != nullptr && !node.empty()) {
    farm->post([node, job = st.job.id](farm::lease_manager& m) {
      (void)m.count_refused_result(node, job);
    });
  }
  if (refused >= max_refused_results) {
    fail_job(
        self, ctx,
        "shot " + shot.shot_id + ": " + std::to_string(refused) + " results refused; last " + what);
    return;
  }
  shot.status = "queued";
  shot.progress = 0;
  shot.current_step = "queued";
  shot.error = what;
  if (auto r = ctx->options.jobs.jobs->update_shot(st.job.id, shot); !r) {
    log::warn("actors", "cannot persist shot",
              {{"shot", shot.shot_id}, {"error", r.error().message()}});
  }
  spawn_scene(self, ctx, {shot});
}

void on_shot_done(supervisor_ptr self, const context_ptr& ctx, int position,
                  const std::string& artifact, const std::string& checksum,
                  const std::string& node) {
  auto& st = self->state;
  auto& shot = st.shots.at(static_cast<std::size_t>(position));
  media_layout layout(ctx->options.jobs.media_dir, st.job.user_id, st.job.project_id);
  auto checked = check_artifact(layout, lease_output(shot.spec_json), artifact, checksum);
  auto segment = checked ? read_segment_sidecar(layout.media_dir(), artifact)
                         : result<std::string>(checked.error());
  if (!segment) {
    refuse_result(self, ctx, position, node, segment.error());
    return;
  }
  shot.status = "done";
  shot.progress = 100;
  shot.current_step = "done";
  shot.artifact = artifact;
  shot.checksum = checksum;
  shot.segment_json = std::move(segment).value();
  shot.node_id = node;
  shot.error.clear();  // a refused earlier result is history now
  if (auto r = ctx->options.jobs.jobs->update_shot(self->state.job.id, shot); !r) {
    log::warn("actors", "cannot persist shot",
              {{"shot", shot.shot_id}, {"error", r.error().message()}});
  }
  refresh_counts(self);
  persist_progress(self, ctx);
}

caf::behavior supervisor_actor(supervisor_ptr self, context_ptr ctx, std::string job_id) {
  self->state.view.job_id = job_id;
  if (!ctx->options.redis_url.empty()) {
    auto redis = redis_client::connect(ctx->options.redis_url, std::chrono::seconds(2));
    if (redis) {
      self->state.redis.emplace(std::move(redis).value());
    }
  }
  self->set_down_handler([=](caf::down_msg& dm) {
    self->state.scenes.erase(dm.source);
    if (dm.reason && !self->state.over) {
      fail_job(self, ctx, "a scene actor stopped: " + caf::to_string(dm.reason));
    }
  });
  self->set_exit_handler([=](caf::exit_msg& em) {
    if (self->state.scenes.count(em.source) != 0) {
      return;  // a scene's own exit: the down handler fails the job
    }
    // Shutdown of the service: the job stays as it is, to be resumed.
    for (const auto& [addr, scene] : self->state.scenes) {
      self->send_exit(scene, em.reason);
    }
    self->quit(em.reason);
  });
  self->send(self, start_atom::value);
  return {
      [=](start_atom) {
        if (!load_job(self, ctx, job_id)) {
          if (!self->state.over) {
            ctx->publish_view(self->state.view);
            self->quit();
          }
          return;
        }
        refresh_counts(self);
        persist_progress(self, ctx);
        if (self->state.view.shots_done == self->state.view.shots_total) {
          finish_film(self, ctx);  // everything reused or rendered before a restart
          return;
        }
        spawn_scenes(self, ctx);
      },
      [=](shot_run_atom, int position) {
        auto& shot = self->state.shots.at(static_cast<std::size_t>(position));
        shot.status = "rendering";
        shot.current_step = "rendering";
        ++shot.attempts;
        (void)ctx->options.jobs.jobs->update_shot(self->state.job.id, shot);
      },
      [=](shot_ok_atom, int position, const std::string& artifact, const std::string& checksum,
          const std::string& node) { on_shot_done(self, ctx, position, artifact, checksum, node); },
      [=](shot_bad_atom, int, const std::string& why) { fail_job(self, ctx, why); },
      [=](scene_ok_atom) {
        if (!self->state.over && self->state.view.shots_done == self->state.view.shots_total) {
          finish_film(self, ctx);
        }
      },
      [=](cancel_atom) {
        if (self->state.over) {
          return;
        }
        for (const auto& s : self->state.shots) {
          if (!s.has_segment()) {
            self->send(ctx->bridge, cancel_atom::value, farm_shot_id(job_id, s.shot_id));
          }
        }
        auto job = ctx->options.jobs.jobs->get(job_id);
        if (job) {
          end_job(self, ctx, *job);
        } else {
          self->quit();
        }
      },
  };
}

}  // namespace

struct render_service::impl {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> system;
  context_ptr ctx;
  std::mutex mutex;
  std::map<std::string, caf::actor> supervisors;
};

render_service::render_service(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

result<std::unique_ptr<render_service>> render_service::create(render_service_options options) {
  if (options.coordinator == nullptr || options.jobs.jobs == nullptr) {
    return error(actors_errc::invalid_settings, "the render service needs a coordinator and jobs");
  }
  auto state = std::make_unique<impl>();
  // Two scheduler threads: supervisors are detached (they block on
  // PostgreSQL and FFmpeg); scene and shot actors only pass messages.
  state->cfg.set("scheduler.max-threads", 2);
  // Work sharing (a queue and a condition variable) instead of the default
  // work stealing: its workers poll when idle, which cost an idle `serve`
  // about 12 % of a core; these actors pass few messages, so sharing's
  // single queue never contends.
  state->cfg.set("scheduler.policy", caf::atom("sharing"));
  state->cfg.set("logger.verbosity", caf::atom("quiet"));
  state->system = std::make_unique<caf::actor_system>(state->cfg);
  state->ctx = std::make_shared<shared_context>();
  state->ctx->options = std::move(options);
  state->ctx->bridge = state->system->spawn(bridge_actor, state->ctx);
  return std::unique_ptr<render_service>(new render_service(std::move(state)));
}

render_service::~render_service() {
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& [id, sup] : impl_->supervisors) {
      caf::anon_send_exit(sup, caf::exit_reason::user_shutdown);
    }
  }
  caf::anon_send_exit(impl_->ctx->bridge, caf::exit_reason::user_shutdown);
  impl_->system->await_all_actors_done();
  impl_->ctx->bridge = caf::actor{};
  impl_->supervisors.clear();
  impl_->system.reset();
}

result<void> render_service::run(const std::string& job_id) {
  std::lock_guard lock(impl_->mutex);
  if (auto it = impl_->supervisors.find(job_id); it != impl_->supervisors.end()) {
    auto v = view(job_id);
    if (v && !v->finished()) {
      return ok();  // already running here
    }
  }
  job_view v;
  v.job_id = job_id;
  impl_->ctx->publish_view(v);
  impl_->supervisors[job_id] =
      impl_->system->spawn<caf::detached>(supervisor_actor, impl_->ctx, job_id);
  return ok();
}

result<int> render_service::resume_all() {
  auto ids = impl_->ctx->options.jobs.jobs->unfinished();
  if (!ids) {
    return ids.error();
  }
  for (const auto& id : *ids) {
    if (auto r = run(id); !r) {
      return r.error();
    }
  }
  return static_cast<int>(ids->size());
}

result<int> render_service::sync_with_store() {
  auto ids = impl_->ctx->options.jobs.jobs->unfinished();
  if (!ids) {
    return ids.error();
  }
  std::set<std::string> live(ids->begin(), ids->end());
  int started = 0;
  for (const auto& id : *ids) {
    bool here = false;
    {
      std::lock_guard lock(impl_->mutex);
      here = impl_->supervisors.count(id) != 0;
    }
    if (!here) {
      (void)run(id);
      ++started;
    }
  }
  std::lock_guard lock(impl_->mutex);
  for (auto it = impl_->supervisors.begin(); it != impl_->supervisors.end();) {
    auto v = view(it->first);
    if (v && v->finished()) {
      it = impl_->supervisors.erase(it);  // its actor has quit; forget it
      continue;
    }
    if (live.count(it->first) == 0) {
      // Ended in PostgreSQL while running here (cancelled through the
      // gateway): the supervisor stops its shots and takes the stored state.
      caf::anon_send(it->second, cancel_atom::value);
    }
    ++it;
  }
  return started;
}

result<cancel_outcome> render_service::cancel(const std::string& job_id) {
  // The database first: from here on nothing can be charged (before start)
  // or refunded (after start), whatever the actors still do.
  auto outcome = cancel_job(impl_->ctx->options.jobs, job_id);
  if (!outcome) {
    return outcome;
  }
  std::lock_guard lock(impl_->mutex);
  if (auto it = impl_->supervisors.find(job_id); it != impl_->supervisors.end()) {
    caf::anon_send(it->second, cancel_atom::value);
  } else {
    job_view v;
    v.job_id = job_id;
    v.status = "cancelled";
    v.step = "cancelled";
    impl_->ctx->publish_view(v);
  }
  return outcome;
}

std::optional<job_view> render_service::view(const std::string& job_id) const {
  std::lock_guard lock(impl_->ctx->views_mutex);
  auto it = impl_->ctx->views.find(job_id);
  if (it == impl_->ctx->views.end()) {
    return std::nullopt;
  }
  return it->second;
}

}  // namespace reelfarm::actors
