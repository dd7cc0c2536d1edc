// Replicate's HTTP API (api.replicate.com/v1): predictions create, get,
// cancel. Errors are RFC 7807 problem details {"title","detail","status"}.
#include "reelfarm/farm/node/replicate_backend.hpp"

#include <sodium.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "provider_http.hpp"
#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/farm/errc.hpp"

namespace reelfarm::farm {
namespace {

using json = nlohmann::json;

std::string data_uri(const std::filesystem::path& file) {
  auto bytes = read_file(file);
  if (!bytes) {
    return {};
  }
  std::string b64(sodium_base64_encoded_len(bytes->size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(bytes->data()),
                    bytes->size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(std::strlen(b64.c_str()));
  auto ext = file.extension().string();
  std::string type = ext == ".png" ? "image/png" : ext == ".webp" ? "image/webp" : "image/jpeg";
  return "data:" + type + ";base64," + b64;
}

}  // namespace

std::string provider_error_text(const std::string& provider, long status, const std::string& body) {
  std::string detail;
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_object()) {
    for (const char* key : {"detail", "error", "title", "message"}) {
      if (doc.value(key, json()).is_string()) {
        detail = doc[key].get<std::string>();
        break;
      }
    }
  }
  std::string what;
  switch (status) {
    case 401:
    case 403:
      what = "the API key was refused (HTTP " + std::to_string(status) + "); check the key";
      break;
    case 402:
      what = "no credit left on the account (HTTP 402)";
      break;
    case 404:
      what = "not found or expired (HTTP 404)";
      break;
    case 422:
      what = "the model refused the input (HTTP 422)";
      break;
    case 429:
      what = "rate limited (HTTP 429)";
      break;
    default:
      what = "HTTP " + std::to_string(status);
  }
  return provider + ": " + what + (detail.empty() ? "" : ": " + detail.substr(0, 500));
}

replicate_backend::replicate_backend(provider_settings settings)
    : generation_backend(std::move(settings)) {}

result<std::unique_ptr<replicate_backend>> replicate_backend::create(provider_settings settings) {
  if (settings.model.empty()) {
    return error(farm_errc::invalid_argument,
                 "replicate needs model=OWNER/NAME[:VERSION] or a version id");
  }
  return std::unique_ptr<replicate_backend>(new replicate_backend(std::move(settings)));
}

std::chrono::milliseconds replicate_backend::poll_delay(int attempt) const {
  // 1 s doubling to a cap of 5 s: quick shots finish fast, long ones do not flood the API.
  return std::chrono::milliseconds(std::min<std::int64_t>(5000, 1000LL << std::min(attempt, 3)));
}

result<std::string> replicate_backend::submit(provider_http& http, const generation_request& r,
                                              const render_job&) {
  json input = {{"prompt", r.prompt}, {"seed", r.seed},         {"width", r.width},
                {"height", r.height}, {"num_frames", r.frames}, {"fps", r.fps}};
  if (!r.reference_image.empty()) {
    input["image"] = data_uri(r.reference_image);
  }
  auto res = http.perform({"POST", settings().url + "/v1/predictions",
                           json{{"version", settings().model}, {"input", input}}.dump(),
                           "application/json"});
  if (!res) {
    return res.error();
  }
  if (res->status != 201 && res->status != 200) {
    return error(farm_errc::backend,
                 provider_error_text(name(), res->status, res->body) + " (create prediction)");
  }
  auto doc = json::parse(res->body, nullptr, false);
  if (!doc.is_object() || !doc.value("id", json()).is_string()) {
    return error(farm_errc::backend, name() + ": the created prediction has no id");
  }
  return doc["id"].get<std::string>();
}

result<generation_status> replicate_backend::poll(provider_http& http, const std::string& id) {
  auto res = http.perform({"GET", settings().url + "/v1/predictions/" + http.escape(id)});
  if (!res) {
    return res.error();
  }
  generation_status s;
  if (res->status == 401 || res->status == 402 || res->status == 403 || res->status == 404) {
    s.status = generation_status::state::failed;
    s.message = provider_error_text(name(), res->status, res->body) + " (prediction " + id + ")";
    return s;
  }
  if (res->status != 200) {
    return error(farm_errc::backend, provider_error_text(name(), res->status, res->body));
  }
  auto doc = json::parse(res->body, nullptr, false);
  if (!doc.is_object() || !doc.value("status", json()).is_string()) {
    return error(farm_errc::backend, name() + ": a prediction without status");
  }
  auto status = doc["status"].get<std::string>();
  if (status == "starting") {
    s.status = generation_status::state::queued;
  } else if (status == "processing") {
    s.status = generation_status::state::running;
  } else if (status == "succeeded") {
    s.status = generation_status::state::succeeded;
    const auto& out = doc.value("output", json());
    if (out.is_string()) {
      s.outputs.push_back(out.get<std::string>());
    } else if (out.is_array()) {
      for (const auto& o : out) {
        if (o.is_string()) {
          s.outputs.push_back(o.get<std::string>());
        }
      }
    }
  } else if (status == "failed") {
    s.status = generation_status::state::failed;
    s.message = doc.value("error", json()).is_string() ? doc["error"].get<std::string>()
                                                       : "the prediction failed";
  } else if (status == "canceled") {
    s.status = generation_status::state::cancelled;
  } else {
    return error(farm_errc::backend, name() + ": unknown prediction status " + status);
  }
  if (doc.value("metrics", json()).is_object() &&
      doc["metrics"].value("predict_time", json()).is_number()) {
    s.billed_s = doc["metrics"]["predict_time"].get<double>();
  }
  return s;
}

result<std::vector<std::filesystem::path>> replicate_backend::fetch(
    provider_http& http, const generation_status& status, const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& url : status.outputs) {
    auto path = std::filesystem::path(loggable_url(url));
    auto ext = path.extension().string().substr(0, 8);
    auto file = dir / ("output-" + std::to_string(files.size()) + ext);
    if (auto got = download_with_retries(http, url, file); !got) {
      return got.error();
    }
    files.push_back(file);
  }
  return files;
}

void replicate_backend::cancel(provider_http& http, const std::string& id) {
  (void)http.perform(
      {"POST", settings().url + "/v1/predictions/" + http.escape(id) + "/cancel", "", ""});
}

}  // namespace reelfarm::farm
