// reelfarm: one program, many subcommands. This file only parses the global
// flags and dispatches; every subcommand lives in cmd_<name>.cpp.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "version.hpp"

namespace {

using namespace reelfarm::app;

struct command {
  std::string_view name;
  int (*run)(const std::vector<std::string>&, const global_options&);
  std::string_view summary;
};

constexpr command commands[] = {
    {"serve", cmd_serve, "run the farm: embedded services, migrations (--check: verify and exit)"},
    {"coordinator", cmd_coordinator, "run the farm coordinator that render nodes join"},
    {"node", cmd_node, "run a render node that joins a coordinator"},
    {"render", cmd_render, "render a screenplay to a film on this machine"},
    {"render-shot", cmd_render_shot, "render one shot or a screenplay locally, without the farm"},
    {"plan", cmd_plan, "split a screenplay into scenes and shots and price it"},
    {"ctl", cmd_ctl, "talk to a running farm (projects, credits, nodes)"},
    {"bench", cmd_bench, "run a benchmark (bench --help lists them)"},
    {"config", cmd_config, "show the effective configuration or the documented keys"},
};

void print_usage(std::FILE* out) {
  std::fprintf(out,
               "usage: reelfarm [--config FILE] [--set SECTION.KEY=VALUE]... [--data-dir DIR]\n"
               "                [--log-level LEVEL] COMMAND [ARGS]\n"
               "       reelfarm --version | --help\n\ncommands:\n");
  for (const auto& c : commands) {
    std::fprintf(out, "  %-12.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  }
  std::fprintf(out,
               "\nConfiguration: defaults < --config FILE (or REELFARM_CONFIG) < environment "
               "REELFARM_SECTION_KEY < flags.\n`reelfarm config keys` lists every key.\n");
}

// Takes a global flag at argv[i] if there is one; returns false on a flag
// missing its value.
bool take_global_flag(int argc, char** argv, int& i, global_options& options, bool& taken) {
  std::string_view arg = argv[i];
  taken = false;
  auto value_of = [&](std::string_view flag) -> const char* {
    if (arg == flag) {
      if (i + 1 >= argc) {
        return nullptr;
      }
      taken = true;
      return argv[++i];
    }
    if (arg.size() > flag.size() + 1 && arg.starts_with(flag) && arg[flag.size()] == '=') {
      taken = true;
      return argv[i] + flag.size() + 1;
    }
    return nullptr;
  };
  for (std::string_view flag : {"--config", "--set", "--data-dir", "--log-level"}) {
    bool exact = arg == flag;
    const char* value = value_of(flag);
    if (exact && value == nullptr) {
      std::fprintf(stderr, "reelfarm: %.*s needs a value\n", static_cast<int>(flag.size()),
                   flag.data());
      return false;
    }
    if (value == nullptr) {
      continue;
    }
    if (flag == "--config") {
      options.config_file = value;
    } else if (flag == "--set") {
      options.overrides.emplace_back(value);
    } else if (flag == "--data-dir") {
      options.overrides.push_back(std::string("embedded.data_dir=") + value);
    } else {
      options.overrides.push_back(std::string("log.level=") + value);
    }
    return true;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  global_options options;
  std::string_view command_name;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {  // everything after belongs to the subcommand
      for (++i; i < argc; ++i) {
        args.emplace_back(argv[i]);
      }
      break;
    }
    bool taken = false;
    if (!take_global_flag(argc, argv, i, options, taken)) {
      return exit_usage;
    }
    if (taken) {
      continue;
    }
    if (command_name.empty()) {
      if (arg == "--version" || arg == "-V") {
        std::fputs(reelfarm::app::version_report().c_str(), stdout);
        return exit_ok;
      }
      if (arg == "--help" || arg == "-h" || arg == "help") {
        print_usage(stdout);
        return exit_ok;
      }
      if (arg.starts_with("-")) {
        std::fprintf(stderr, "reelfarm: unknown flag %s\n\n", argv[i]);
        print_usage(stderr);
        return exit_usage;
      }
      command_name = arg;
      continue;
    }
    args.emplace_back(arg);
  }
  if (command_name.empty()) {
    print_usage(stderr);
    return exit_usage;
  }
  for (const auto& c : commands) {
    if (c.name == command_name) {
      return c.run(args, options);
    }
  }
  std::fprintf(stderr, "reelfarm: unknown command '%.*s'\n\n",
               static_cast<int>(command_name.size()), command_name.data());
  print_usage(stderr);
  return exit_usage;
}
