#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "reelfarm/farm/node/generation_backend.hpp"

namespace reelfarm::farm {

/// A ComfyUI server as a node backend (name "comfyui" unless renamed).
///
/// The workflow is a file in ComfyUI's API format (Export (API) in the UI):
/// {"NODE_ID": {"class_type": ..., "inputs": {...}}, ...}. String inputs may
/// hold placeholders, filled per shot:
///
/// | placeholder | value |
/// |---|---|
/// | `{{prompt}}` | the shot's prompt (text) |
/// | `{{seed}}` | the first character's seed (else the location's) |
/// | `{{reference_image}}` | the character's reference image, uploaded to the server's input folder
/// | | `{{width}}`, `{{height}}` | the shot's size in pixels | | `{{frames}}` | planned frames
/// (duration × fps) | | `{{fps}}` | frames per second |
///
/// A string that is exactly one numeric placeholder becomes a JSON number;
/// inside longer strings placeholders are replaced as text. With
/// `reference_workflow=FILE`, shots that carry a character reference image
/// use that workflow (e.g. with an IP-Adapter) and the others `workflow`.
///
/// Wire: `POST /prompt {"prompt", "client_id"}` (a 400 reports `error` and
/// `node_errors`, quoted in the failure); `GET /history/{prompt_id}` until it
/// lists the prompt (`GET /queue` tells queued from running meanwhile);
/// outputs (`images`, `gifs`, `videos` of type "output") fetched with
/// `GET /view?filename=&subfolder=&type=`; reference images uploaded once per
/// server with `POST /upload/image` (multipart, named by their SHA-256);
/// cancel: `POST /queue {"delete": [id]}`, and `POST /interrupt
/// {"prompt_id": id}` when it is the one running.
class comfyui_backend final : public generation_backend {
 public:
  /// Loads and checks the workflow file.
  static result<std::unique_ptr<comfyui_backend>> create(provider_settings settings);

  /// The workflow with every placeholder filled for `request`;
  /// `reference_name` is the uploaded image's name ("" when none).
  static result<std::string> fill_workflow(const std::string& workflow_json,
                                           const generation_request& request,
                                           const std::string& reference_name);

 protected:
  result<std::string> submit(provider_http& http, const generation_request& request,
                             const render_job& job) override;
  result<generation_status> poll(provider_http& http, const std::string& id) override;
  result<std::vector<std::filesystem::path>> fetch(provider_http& http,
                                                   const generation_status& status,
                                                   const std::filesystem::path& dir) override;
  void cancel(provider_http& http, const std::string& id) override;

 private:
  comfyui_backend(provider_settings settings, std::string workflow, std::string with_reference,
                  std::string client_id);
  result<std::string> upload_reference(provider_http& http, const generation_request& request);

  std::string workflow_;
  std::string reference_workflow_;  ///< for shots with a reference image
  std::string client_id_;
  std::mutex mutex_;
  std::mutex upload_mutex_;         ///< one upload at a time: two slots never send the same image
  std::set<std::string> uploaded_;  ///< reference hashes the server already has
  std::map<std::string, int> unseen_polls_;  ///< prompt id -> polls it was in no list
};

}  // namespace reelfarm::farm
