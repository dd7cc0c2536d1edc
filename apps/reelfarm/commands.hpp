#pragma once

#include <optional>
#include <string>
#include <vector>

#include "reelfarm/common/config.hpp"

/// The subcommands of `reelfarm`. Each lives in its own cmd_<name>.cpp, parses
/// its own flags and calls the libraries; none holds domain logic.
namespace reelfarm::app {

/// Exit codes shared by every subcommand.
enum exit_code : int {
  exit_ok = 0,
  exit_failure = 1,  ///< the command ran and failed (a server, a file, a render)
  exit_usage = 2,    ///< the command line or the configuration is wrong
};

/// Flags that every subcommand accepts before or after its name.
struct global_options {
  std::optional<std::string> config_file;  ///< --config FILE (or REELFARM_CONFIG)
  std::vector<std::string> overrides;      ///< --set section.key=value, --data-dir, --log-level
};

/// Loads the configuration from the global options and the environment and
/// sets up logging; prints the error and returns nullopt when it is invalid.
std::optional<config> load_configuration(const global_options& options);

int cmd_serve(const std::vector<std::string>& args, const global_options& options);
int cmd_node(const std::vector<std::string>& args, const global_options& options);
int cmd_coordinator(const std::vector<std::string>& args, const global_options& options);
int cmd_render(const std::vector<std::string>& args, const global_options& options);
int cmd_render_shot(const std::vector<std::string>& args, const global_options& options);
int cmd_plan(const std::vector<std::string>& args, const global_options& options);
int cmd_ctl(const std::vector<std::string>& args, const global_options& options);
/// `reelfarm ctl crm …`, called by cmd_ctl; `words` starts with "crm".
int run_ctl_crm(const std::vector<std::string>& words, const global_options& options);
/// `reelfarm ctl …` through the HTTP API (login, submit, watch, …), called by cmd_ctl.
int run_ctl_api(const std::vector<std::string>& args, const global_options& options);
int cmd_bench(const std::vector<std::string>& args, const global_options& options);
int cmd_config(const std::vector<std::string>& args, const global_options& options);

}  // namespace reelfarm::app
