#include "ctl_api.hpp"
#include "reelfarm/common/errc.hpp"

namespace reelfarm::app {
namespace {

const std::set<std::string> value_flags = {"--api",         "--email",     "--title", "--download",
                                           "--coordinator", "--full-name", "--limit"};
const std::set<std::string> switch_flags = {"--watch", "--json", "--password-stdin",
                                            "--shots", "--help", "-h"};

}  // namespace

std::string ctl_args::value(const std::string& flag, const std::string& fallback) const {
  auto it = values.find(flag);
  return it != values.end() ? it->second : fallback;
}

result<ctl_args> parse_ctl_args(const std::vector<std::string>& args) {
  ctl_args out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (!arg.starts_with("-") || arg == "-") {
      out.words.push_back(arg);
      continue;
    }
    auto eq = arg.find('=');
    auto name = arg.substr(0, eq);
    if (switch_flags.contains(arg)) {
      out.switches.insert(arg);
    } else if (!value_flags.contains(name)) {
      return error(common_errc::invalid_argument, "unknown flag " + arg);
    } else if (eq != std::string::npos) {
      out.values[name] = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      out.values[name] = args[++i];
    } else {
      return error(common_errc::invalid_argument, arg + " needs a value");
    }
  }
  return out;
}

}  // namespace reelfarm::app
