#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/node/generation_backend.hpp"

namespace reelfarm::farm {

/// Endpoint URLs and API keys of the providers, from configuration or the
/// environment (never from the command line, where `ps` shows them).
struct provider_credentials {
  std::map<std::string, std::string> urls;  ///< kind -> default base URL
  std::map<std::string, std::string> keys;  ///< kind -> API key
};

/// True for "comfyui", "replicate" and "runpod".
bool is_provider_kind(const std::string& kind);

/// Parses `KIND=URL[,OPTION=VALUE]...` (the value of `--backend`). Options:
/// name (advertised name), workflow (comfyui), model (replicate), endpoint
/// (runpod), deadline (seconds per shot), poll_ms, delay_scale. An empty URL
/// takes the configured one; `api_key`/`key`/`token` options are refused.
result<provider_settings> parse_provider_spec(const std::string& spec,
                                              const provider_credentials& credentials);

/// Builds the backend for `settings`.
result<std::unique_ptr<render_backend>> make_provider_backend(provider_settings settings);

}  // namespace reelfarm::farm
