// RunPod serverless (api.runpod.ai/v2/{endpoint_id}): /run, /status, /cancel.
#include "reelfarm/farm/node/runpod_backend.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "provider_http.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/node/replicate_backend.hpp"

namespace reelfarm::farm {
namespace {

using json = nlohmann::json;

std::string base64_of(const std::string& bytes) {
  std::string b64(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(std::strlen(b64.c_str()));
  return b64;
}

result<std::string> from_base64(std::string_view text) {
  if (auto comma = text.find(','); text.starts_with("data:") && comma != std::string_view::npos) {
    text.remove_prefix(comma + 1);  // a data URI
  }
  std::string out(text.size() * 3 / 4 + 3, '\0');
  std::size_t n = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), "\r\n", &n, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return error(farm_errc::backend, "runpod: the worker's output is not valid base64");
  }
  out.resize(n);
  return out;
}

// Collects output items as {"type","data","filename"} objects.
void collect(const json& out, std::vector<std::string>& items) {
  if (out.is_string()) {
    items.push_back(json{{"type", "url"}, {"data", out}}.dump());
  } else if (out.is_array()) {
    for (const auto& o : out) {
      collect(o, items);
    }
  } else if (out.is_object()) {
    if (out.value("data", json()).is_string()) {
      items.push_back(json{{"type", out.value("type", std::string("base64"))},
                           {"data", out["data"]},
                           {"filename", out.value("filename", std::string())}}
                          .dump());
      return;
    }
    for (const char* key : {"images", "video", "videos", "url", "image"}) {
      if (out.contains(key)) {
        collect(out[key], items);
      }
    }
  }
}

}  // namespace

runpod_backend::runpod_backend(provider_settings settings)
    : generation_backend(std::move(settings)) {}

result<std::unique_ptr<runpod_backend>> runpod_backend::create(provider_settings settings) {
  if (settings.endpoint.empty() || settings.endpoint.find_first_of("/?#% ") != std::string::npos) {
    return error(farm_errc::invalid_argument, "runpod needs endpoint=ENDPOINT_ID");
  }
  return std::unique_ptr<runpod_backend>(new runpod_backend(std::move(settings)));
}

std::string runpod_backend::base() const {
  return settings().url + "/v2/" + settings().endpoint;
}

result<std::string> runpod_backend::submit(provider_http& http, const generation_request& r,
                                           const render_job&) {
  json input = {{"prompt", r.prompt}, {"seed", r.seed},         {"width", r.width},
                {"height", r.height}, {"num_frames", r.frames}, {"fps", r.fps}};
  if (!r.reference_image.empty()) {
    auto bytes = read_file(r.reference_image);
    if (!bytes) {
      return bytes.error();
    }
    input["image_base64"] = base64_of(*bytes);
    input["image_sha256"] = r.reference_sha256;
  }
  // RunPod takes 5 s to 7 days; the job is worthless to us after the deadline.
  auto timeout_ms =
      std::clamp<std::int64_t>(settings().deadline.count() * 1000, 5000, 7LL * 24 * 3600 * 1000);
  json body = {{"input", input},
               {"policy", {{"executionTimeout", timeout_ms}, {"ttl", timeout_ms + 60000}}}};
  auto res = http.perform({"POST", base() + "/run", body.dump(), "application/json"});
  if (!res) {
    return res.error();
  }
  if (res->status != 200) {
    return error(farm_errc::backend,
                 provider_error_text(name(), res->status, res->body) + " (run)");
  }
  auto doc = json::parse(res->body, nullptr, false);
  if (!doc.is_object() || !doc.value("id", json()).is_string()) {
    return error(farm_errc::backend, name() + ": /run answered no job id");
  }
  return doc["id"].get<std::string>();
}

result<generation_status> runpod_backend::poll(provider_http& http, const std::string& id) {
  auto res = http.perform({"GET", base() + "/status/" + http.escape(id)});
  if (!res) {
    return res.error();
  }
  generation_status s;
  if (res->status == 401 || res->status == 403 || res->status == 404) {
    s.status = generation_status::state::failed;
    s.message = provider_error_text(name(), res->status, res->body) + " (job " + id + ")";
    return s;
  }
  if (res->status != 200) {
    return error(farm_errc::backend, provider_error_text(name(), res->status, res->body));
  }
  auto doc = json::parse(res->body, nullptr, false);
  if (!doc.is_object() || !doc.value("status", json()).is_string()) {
    return error(farm_errc::backend, name() + ": a status without status");
  }
  auto status = doc["status"].get<std::string>();
  if (doc.value("executionTime", json()).is_number()) {
    s.billed_s = doc["executionTime"].get<double>() / 1000.0;
  }
  auto message = [&] {
    const auto& e = doc.value("error", json());
    return e.is_string() ? e.get<std::string>() : e.is_null() ? std::string() : e.dump();
  };
  if (status == "IN_QUEUE") {
    s.status = generation_status::state::queued;
  } else if (status == "IN_PROGRESS") {
    s.status = generation_status::state::running;
  } else if (status == "COMPLETED") {
    s.status = generation_status::state::succeeded;
    collect(doc.value("output", json()), s.outputs);
  } else if (status == "FAILED") {
    s.status = generation_status::state::failed;
    s.message = message();
  } else if (status == "CANCELLED") {
    s.status = generation_status::state::cancelled;
  } else if (status == "TIMED_OUT") {
    s.status = generation_status::state::failed;
    s.message = "the job passed its execution timeout";
  } else {
    return error(farm_errc::backend, name() + ": unknown job status " + status);
  }
  return s;
}

result<std::vector<std::filesystem::path>> runpod_backend::fetch(provider_http& http,
                                                                 const generation_status& status,
                                                                 const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& text : status.outputs) {
    auto item = json::parse(text);
    auto type = item.value("type", std::string());
    auto data = item.value("data", std::string());
    auto named = std::filesystem::path(item.value("filename", std::string()));
    auto ext = named.extension().string().substr(0, 8);
    if (type == "base64") {
      auto bytes = from_base64(data);
      if (!bytes) {
        return bytes.error();
      }
      if (ext.empty()) {
        ext = bytes->starts_with("\x89PNG") ? ".png" : ".bin";
      }
      auto file = dir / ("output-" + std::to_string(files.size()) + ext);
      if (auto w = write_file_atomically(file, *bytes, 0644); !w) {
        return w.error();
      }
      files.push_back(file);
      continue;
    }
    if (ext.empty()) {
      ext = std::filesystem::path(loggable_url(data)).extension().string().substr(0, 8);
    }
    auto file = dir / ("output-" + std::to_string(files.size()) + ext);
    if (auto got = download_with_retries(http, data, file); !got) {
      return got.error();
    }
    files.push_back(file);
  }
  return files;
}

void runpod_backend::cancel(provider_http& http, const std::string& id) {
  (void)http.perform({"POST", base() + "/cancel/" + http.escape(id), "", ""});
}

}  // namespace reelfarm::farm
