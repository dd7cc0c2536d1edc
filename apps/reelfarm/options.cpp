#include <cstdio>
#include <cstdlib>

#include "commands.hpp"
#include "reelfarm/common/log.hpp"

namespace reelfarm::app {

std::optional<config> load_configuration(const global_options& options) {
  config_sources sources;
  sources.file = options.config_file;
  if (!sources.file) {
    if (const char* env = std::getenv("REELFARM_CONFIG"); env != nullptr && *env != '\0') {
      sources.file = env;
    }
  }
  sources.environment = process_environment();
  sources.overrides = options.overrides;
  auto cfg = load_config(sources);
  if (!cfg) {
    std::fprintf(stderr, "reelfarm: configuration error: %s\n", cfg.error().message().c_str());
    return std::nullopt;
  }
  // The values were validated by load_config, so these parses cannot fail.
  log::configure(*log::parse_level(cfg->log.level), *log::parse_format(cfg->log.format));
  return std::move(cfg).value();
}

}  // namespace reelfarm::app
