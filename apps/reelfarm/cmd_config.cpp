#include <cstdio>

#include "commands.hpp"

namespace reelfarm::app {
namespace {

const char* type_name(config_type type) {
  switch (type) {
    case config_type::string:
      return "string";
    case config_type::integer:
      return "integer";
    case config_type::boolean:
      return "boolean";
    case config_type::duration:
      return "duration";
    case config_type::choice:
      return "choice";
  }
  return "value";
}

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: reelfarm config show    print the effective configuration (secrets redacted)\n"
      "       reelfarm config check   validate the configuration and exit 0 or 2\n"
      "       reelfarm config keys    list every key with its type, variable and meaning\n",
      out);
}

}  // namespace

int cmd_config(const std::vector<std::string>& args, const global_options& options) {
  if (args.size() != 1) {
    print_usage(stderr);
    return exit_usage;
  }
  if (args[0] == "keys") {
    for (const auto& key : config_keys()) {
      std::printf("%.*s.%.*s (%s, %s)\n    %.*s\n", static_cast<int>(key.section.size()),
                  key.section.data(), static_cast<int>(key.key.size()), key.key.data(),
                  type_name(key.type), environment_name(key.section, key.key).c_str(),
                  static_cast<int>(key.doc.size()), key.doc.data());
    }
    return exit_ok;
  }
  if (args[0] != "show" && args[0] != "check") {
    print_usage(stderr);
    return exit_usage;
  }
  auto cfg = load_configuration(options);
  if (!cfg) {
    return exit_usage;
  }
  if (args[0] == "show") {
    std::fputs(describe(*cfg).c_str(), stdout);
  } else {
    std::puts("configuration is valid");
  }
  return exit_ok;
}

}  // namespace reelfarm::app
