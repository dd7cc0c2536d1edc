// ComfyUI's HTTP API (server.py): /prompt, /history, /queue, /view,
// /interrupt, /upload/image. Progress over /ws is not followed: polling
// /history is enough for shots that take seconds to minutes.
#include "reelfarm/farm/node/comfyui_backend.hpp"

#include <nlohmann/json.hpp>

#include "provider_http.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/common/log.hpp"
#include "reelfarm/farm/errc.hpp"

namespace reelfarm::farm {
namespace {

using json = nlohmann::json;

// How many polls a prompt may be missing from both /history and /queue
// before it counts as lost (deleted by someone else, or the server restarted).
constexpr int max_unseen_polls = 6;

void replace_all(std::string& s, std::string_view what, std::string_view with) {
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + with.size())) {
    s.replace(at, what.size(), with);
  }
}

void fill(json& node, const std::map<std::string, json>& values) {
  if (node.is_string()) {
    auto text = node.get<std::string>();
    if (auto it = values.find(text); it != values.end()) {
      node = it->second;  // a whole-string placeholder keeps the value's type
      return;
    }
    if (text.find("{{") == std::string::npos) {
      return;
    }
    for (const auto& [key, value] : values) {
      replace_all(text, key, value.is_string() ? value.get<std::string>() : value.dump());
    }
    node = text;
  } else if (node.is_structured()) {
    for (auto& child : node) {
      fill(child, values);
    }
  }
}

// "node 3 (KSampler): Value not in list: ckpt_name: 'x' not in [...]"
std::string describe_node_errors(const json& node_errors) {
  std::string out;
  if (!node_errors.is_object()) {
    return out;
  }
  for (const auto& [id, entry] : node_errors.items()) {
    out += "; node " + id;
    if (entry.is_object() && entry.value("class_type", json()).is_string()) {
      out += " (" + entry["class_type"].get<std::string>() + ")";
    }
    if (entry.is_object() && entry.value("errors", json()).is_array()) {
      for (const auto& e : entry["errors"]) {
        out += ": " + e.value("message", std::string("error"));
        if (auto d = e.value("details", std::string()); !d.empty()) {
          out += " (" + d + ")";
        }
      }
    }
  }
  return out;
}

bool queue_has(const json& list, const std::string& id) {
  if (!list.is_array()) {
    return false;
  }
  for (const auto& item : list) {
    // [number, prompt_id, prompt, extra_data, outputs_to_execute]
    if (item.is_array() && item.size() > 1 && item[1] == id) {
      return true;
    }
  }
  return false;
}

}  // namespace

comfyui_backend::comfyui_backend(provider_settings settings, std::string workflow,
                                 std::string with_reference, std::string client_id)
    : generation_backend(std::move(settings)),
      workflow_(std::move(workflow)),
      reference_workflow_(std::move(with_reference)),
      client_id_(std::move(client_id)) {}

namespace {

// Reads and checks a workflow file in API format.
result<std::string> load_workflow(const std::string& file) {
  auto text = read_file(file);
  if (!text) {
    return error(farm_errc::invalid_argument, "cannot read the ComfyUI workflow " + file);
  }
  auto doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.empty()) {
    return error(farm_errc::invalid_argument,
                 file + " is not a ComfyUI workflow in API format (a JSON object)");
  }
  for (const auto& [id, node] : doc.items()) {
    if (!node.is_object() || !node.value("class_type", json()).is_string() ||
        !node.value("inputs", json()).is_object()) {
      return error(farm_errc::invalid_argument,
                   file + ": node " + id +
                       " has no class_type/inputs; export the workflow with \"Save (API)\"");
    }
  }
  return doc.dump();
}

}  // namespace

result<std::unique_ptr<comfyui_backend>> comfyui_backend::create(provider_settings settings) {
  if (settings.workflow.empty()) {
    return error(farm_errc::invalid_argument, "comfyui needs workflow=FILE (API format)");
  }
  auto plain = load_workflow(settings.workflow);
  if (!plain) {
    return plain.error();
  }
  auto with_reference = settings.reference_workflow.empty()
                            ? result<std::string>(*plain)
                            : load_workflow(settings.reference_workflow);
  if (!with_reference) {
    return with_reference.error();
  }
  auto client = random_hex(16);
  if (!client) {
    return client.error();
  }
  return std::unique_ptr<comfyui_backend>(
      new comfyui_backend(std::move(settings), *plain, *with_reference, *client));
}

result<std::string> comfyui_backend::fill_workflow(const std::string& workflow_json,
                                                   const generation_request& r,
                                                   const std::string& reference_name) {
  auto doc = json::parse(workflow_json, nullptr, false);
  if (doc.is_discarded()) {
    return error(farm_errc::invalid_argument, "the ComfyUI workflow is not JSON");
  }
  if (reference_name.empty() && workflow_json.find("{{reference_image}}") != std::string::npos) {
    return error(farm_errc::backend, "the ComfyUI workflow needs {{reference_image}} but shot " +
                                         r.shot_id + " has no character reference image");
  }
  std::map<std::string, json> values = {
      {"{{prompt}}", r.prompt}, {"{{seed}}", r.seed},     {"{{reference_image}}", reference_name},
      {"{{width}}", r.width},   {"{{height}}", r.height}, {"{{frames}}", r.frames},
      {"{{fps}}", r.fps},
  };
  fill(doc, values);
  return doc.dump();
}

result<std::string> comfyui_backend::upload_reference(provider_http& http,
                                                      const generation_request& r) {
  auto name = r.reference_image.filename().string();  // <sha256>.<ext>: same bytes, same name
  std::lock_guard one_at_a_time(upload_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (uploaded_.contains(r.reference_sha256)) {
      return name;
    }
  }
  auto res =
      http.post_multipart(settings().url + "/upload/image",
                          {{"type", "input"}, {"overwrite", "true"}}, "image", r.reference_image);
  if (!res) {
    return res.error();
  }
  if (res->status != 200) {
    return error(farm_errc::backend, "ComfyUI refused the reference image upload: HTTP " +
                                         std::to_string(res->status) + " " +
                                         res->body.substr(0, 300));
  }
  auto doc = json::parse(res->body, nullptr, false);
  if (!doc.is_object() || !doc.value("name", json()).is_string()) {
    return error(farm_errc::backend, "ComfyUI's /upload/image answer has no name");
  }
  // ComfyUI may rename; use what it says, in its subfolder.
  std::string stored = doc["name"].get<std::string>();
  if (auto sub = doc.value("subfolder", std::string()); !sub.empty()) {
    stored = sub + "/" + stored;
  }
  std::lock_guard lock(mutex_);
  if (stored == name) {
    uploaded_.insert(r.reference_sha256);
  }
  return stored;
}

result<std::string> comfyui_backend::submit(provider_http& http, const generation_request& r,
                                            const render_job&) {
  const auto& workflow = r.reference_image.empty() ? workflow_ : reference_workflow_;
  std::string reference;
  if (!r.reference_image.empty() && workflow.find("{{reference_image}}") != std::string::npos) {
    auto uploaded = upload_reference(http, r);
    if (!uploaded) {
      return uploaded.error();
    }
    reference = *uploaded;
  }
  auto filled = fill_workflow(workflow, r, reference);
  if (!filled) {
    return filled.error();
  }
  provider_request req{"POST", settings().url + "/prompt",
                       json{{"prompt", json::parse(*filled)}, {"client_id", client_id_}}.dump(),
                       "application/json"};
  auto res = http.perform(req);
  if (!res) {
    return res.error();
  }
  auto doc = json::parse(res->body, nullptr, false);
  if (res->status == 400) {
    std::string why = "ComfyUI rejected the workflow";
    if (doc.is_object() && doc.value("error", json()).is_object()) {
      why += ": " + doc["error"].value("message", std::string());
      if (auto d = doc["error"].value("details", std::string()); !d.empty()) {
        why += " (" + d + ")";
      }
    }
    if (doc.is_object()) {
      why += describe_node_errors(doc.value("node_errors", json()));
    }
    return error(farm_errc::backend, why);
  }
  if (res->status != 200 || !doc.is_object() || !doc.value("prompt_id", json()).is_string()) {
    return error(farm_errc::backend, "ComfyUI /prompt answered HTTP " +
                                         std::to_string(res->status) + ": " +
                                         res->body.substr(0, 300));
  }
  if (auto errors = describe_node_errors(doc.value("node_errors", json())); !errors.empty()) {
    // Accepted with some output nodes dropped: say so, the outputs may be missing.
    log::warn(settings().name, "ComfyUI accepted the prompt with node errors",
              {{"errors", errors}});
  }
  return doc["prompt_id"].get<std::string>();
}

result<generation_status> comfyui_backend::poll(provider_http& http, const std::string& id) {
  auto res = http.perform({"GET", settings().url + "/history/" + http.escape(id)});
  if (!res) {
    return res.error();
  }
  if (res->status != 200) {
    return error(farm_errc::backend,
                 "ComfyUI /history answered HTTP " + std::to_string(res->status));
  }
  auto doc = json::parse(res->body, nullptr, false);
  if (!doc.is_object()) {
    return error(farm_errc::backend, "ComfyUI /history answered no JSON object");
  }
  generation_status s;
  if (!doc.contains(id)) {
    auto queue = http.perform({"GET", settings().url + "/queue"});
    if (!queue || queue->status != 200) {
      return error(farm_errc::backend, "ComfyUI /queue cannot be read");
    }
    auto q = json::parse(queue->body, nullptr, false);
    bool running = q.is_object() && queue_has(q.value("queue_running", json()), id);
    bool pending = q.is_object() && queue_has(q.value("queue_pending", json()), id);
    std::lock_guard lock(mutex_);
    if (running || pending) {
      unseen_polls_.erase(id);
      s.status = running ? generation_status::state::running : generation_status::state::queued;
      return s;
    }
    // Between the end of a run and /history listing it, or gone for good.
    if (++unseen_polls_[id] >= max_unseen_polls) {
      unseen_polls_.erase(id);
      s.status = generation_status::state::failed;
      s.message = "prompt " + id + " is neither queued nor in the history (server restarted?)";
      return s;
    }
    return s;
  }
  {
    std::lock_guard lock(mutex_);
    unseen_polls_.erase(id);
  }
  const auto& entry = doc[id];
  const auto status = entry.value("status", json::object());
  std::string status_str = status.is_object() ? status.value("status_str", "") : "";
  if (status_str == "error") {
    s.status = generation_status::state::failed;
    s.message = "execution failed";
    if (status.is_object() && status.value("messages", json()).is_array()) {
      for (const auto& m : status["messages"]) {
        if (!m.is_array() || m.size() < 2 || !m[1].is_object()) {
          continue;
        }
        if (m[0] == "execution_error") {
          s.message = "node " + m[1].value("node_id", std::string("?")) + " (" +
                      m[1].value("node_type", std::string("?")) +
                      "): " + m[1].value("exception_message", std::string("error"));
        } else if (m[0] == "execution_interrupted") {
          s.status = generation_status::state::cancelled;
          s.message = "interrupted";
        }
      }
    }
    return s;
  }
  s.status = generation_status::state::succeeded;
  const auto outputs = entry.value("outputs", json::object());
  if (outputs.is_object()) {
    for (const auto& [node, out] : outputs.items()) {
      if (!out.is_object()) {
        continue;
      }
      for (const char* kind : {"images", "gifs", "videos"}) {
        if (!out.value(kind, json()).is_array()) {
          continue;
        }
        for (const auto& f : out[kind]) {
          if (f.is_object() && f.value("type", std::string()) == "output" &&
              f.value("filename", json()).is_string()) {
            s.outputs.push_back(f.dump());
          }
        }
      }
    }
  }
  return s;
}

result<std::vector<std::filesystem::path>> comfyui_backend::fetch(
    provider_http& http, const generation_status& status, const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& text : status.outputs) {
    auto f = json::parse(text);
    auto filename = f.value("filename", std::string());
    auto url = settings().url + "/view?filename=" + http.escape(filename) +
               "&subfolder=" + http.escape(f.value("subfolder", std::string())) +
               "&type=" + http.escape(f.value("type", std::string("output")));
    // Our own name: the server's may hold anything.
    auto ext = std::filesystem::path(filename).extension().string().substr(0, 8);
    auto file = dir / ("output-" + std::to_string(files.size()) + ext);
    if (auto got = download_with_retries(http, url, file); !got) {
      return got.error();
    }
    files.push_back(file);
  }
  return files;
}

void comfyui_backend::cancel(provider_http& http, const std::string& id) {
  auto queue = http.perform({"GET", settings().url + "/queue"});
  if (queue && queue->status == 200) {
    auto q = json::parse(queue->body, nullptr, false);
    if (q.is_object() && queue_has(q.value("queue_running", json()), id)) {
      // Only when it is ours: /interrupt stops whatever the server runs.
      (void)http.perform({"POST", settings().url + "/interrupt", json{{"prompt_id", id}}.dump(),
                          "application/json"});
    }
  }
  (void)http.perform({"POST", settings().url + "/queue", json{{"delete", json::array({id})}}.dump(),
                      "application/json"});
}

}  // namespace reelfarm::farm
