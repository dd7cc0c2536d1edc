#include "reelfarm/farm/node/provider_spec.hpp"

#include <charconv>
#include <sstream>

#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/node/comfyui_backend.hpp"
#include "reelfarm/farm/node/replicate_backend.hpp"
#include "reelfarm/farm/node/runpod_backend.hpp"

namespace reelfarm::farm {

bool is_provider_kind(const std::string& kind) {
  return kind == "comfyui" || kind == "replicate" || kind == "runpod";
}

result<provider_settings> parse_provider_spec(const std::string& spec,
                                              const provider_credentials& credentials) {
  auto bad = [&](const std::string& why) {
    return error(farm_errc::invalid_argument,
                 "--backend " + spec.substr(0, spec.find('=')) + "=...: " + why);
  };
  std::vector<std::string> parts;
  std::istringstream in(spec);
  for (std::string part; std::getline(in, part, ',');) {
    parts.push_back(part);
  }
  if (parts.empty()) {
    return bad("empty");
  }
  provider_settings s;
  auto eq = parts[0].find('=');
  s.kind = parts[0].substr(0, eq);
  if (!is_provider_kind(s.kind)) {
    return bad("unknown provider " + s.kind);
  }
  s.url = eq == std::string::npos ? "" : parts[0].substr(eq + 1);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    auto e = parts[i].find('=');
    if (e == std::string::npos) {
      return bad("option " + parts[i] + " has no value");
    }
    auto key = parts[i].substr(0, e);
    auto value = parts[i].substr(e + 1);
    auto number = [&](double& out) {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
      return ec == std::errc() && p == value.data() + value.size();
    };
    double n = 0;
    if (key == "name") {
      s.name = value;
    } else if (key == "workflow") {
      s.workflow = value;
    } else if (key == "reference_workflow") {
      s.reference_workflow = value;
    } else if (key == "model") {
      s.model = value;
    } else if (key == "endpoint") {
      s.endpoint = value;
    } else if (key == "deadline" && number(n) && n >= 1 && n <= 7 * 86400) {
      s.deadline = std::chrono::seconds(static_cast<long long>(n));
    } else if (key == "poll_ms" && number(n) && n >= 10 && n <= 60000) {
      s.poll = std::chrono::milliseconds(static_cast<long long>(n));
    } else if (key == "delay_scale" && number(n) && n >= 0 && n <= 10) {
      s.delay_scale = n;
    } else if (key == "api_key" || key == "key" || key == "token") {
      return bad(
          "API keys are read from the configuration or the environment "
          "(REELFARM_PROVIDERS_" +
          std::string(s.kind == "replicate" ? "REPLICATE_API_TOKEN"
                      : s.kind == "runpod"  ? "RUNPOD_API_KEY"
                                            : "COMFYUI_API_KEY") +
          "), never from the command line");
    } else {
      return bad("unknown or invalid option " + key);
    }
  }
  if (s.url.empty()) {
    auto it = credentials.urls.find(s.kind);
    s.url = it != credentials.urls.end() ? it->second : "";
  }
  while (s.url.ends_with("/")) {
    s.url.pop_back();
  }
  if (!s.url.starts_with("http://") && !s.url.starts_with("https://")) {
    return bad("needs an http(s) URL, on the command line or as providers." + s.kind + "_url");
  }
  if (auto it = credentials.keys.find(s.kind); it != credentials.keys.end()) {
    s.api_key = it->second;
  }
  if (s.name.empty()) {
    s.name = s.kind;
  }
  return s;
}

result<std::unique_ptr<render_backend>> make_provider_backend(provider_settings settings) {
  auto up = [](auto made) -> result<std::unique_ptr<render_backend>> {
    if (!made) {
      return made.error();
    }
    return std::unique_ptr<render_backend>(std::move(made).value());
  };
  if (settings.kind == "comfyui") {
    return up(comfyui_backend::create(std::move(settings)));
  }
  if (settings.kind == "replicate") {
    return up(replicate_backend::create(std::move(settings)));
  }
  if (settings.kind == "runpod") {
    return up(runpod_backend::create(std::move(settings)));
  }
  return error(farm_errc::invalid_argument, "unknown provider " + settings.kind);
}

}  // namespace reelfarm::farm
