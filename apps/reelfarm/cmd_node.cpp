#include <cstdio>
#include <cstdlib>

#include "commands.hpp"
#include "reelfarm/common/metrics.hpp"
#include "reelfarm/common/signals.hpp"
#include "reelfarm/farm/node/animatic_backend.hpp"
#include "reelfarm/farm/node/node_agent.hpp"
#include "reelfarm/store/embedded_options.hpp"

namespace reelfarm::app {
namespace {

constexpr const char* threads_usage =
    "  --threads N        x264 encoder threads of the animatic backend (default 1:\n"
    "                     the same bytes every time; use --slots for more cores)\n";

// Takes `--threads N` out of the arguments (the node agent does not know it:
// it only concerns the built-in animatic backend). Returns -1 when invalid.
int take_threads(std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--threads") {
      continue;
    }
    if (i + 1 >= args.size()) {
      return -1;
    }
    int n = std::atoi(args[i + 1].c_str());
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
               args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    return n >= 1 && n <= 64 ? n : -1;
  }
  return 0;
}

constexpr const char* metrics_usage =
    "  --metrics-port [HOST:]PORT  serve Prometheus metrics at http://HOST:PORT/metrics\n"
    "                     (HOST defaults to 0.0.0.0; absent or 0: no listener;\n"
    "                     HOST:0: a free port, logged as `metrics listening`)\n";

// Takes `--metrics-port SPEC` out of the arguments (it concerns the process,
// not the agent). Returns "" when absent.
std::string take_metrics_port(std::vector<std::string>& args) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--metrics-port") {
      std::string spec = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
                 args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
      return spec;
    }
  }
  return "";
}

}  // namespace

// `reelfarm node --join tcp://HOST:PORT ...`: a render node (farm/node/).
int cmd_node(const std::vector<std::string>& given, const global_options& options) {
  if (!given.empty() && (given[0] == "--help" || given[0] == "-h")) {
    std::fputs(farm::node_usage(), stdout);
    std::fputs(threads_usage, stdout);
    std::fputs(metrics_usage, stdout);
    return exit_ok;
  }
  auto args = given;
  int threads = take_threads(args);
  if (threads < 0) {
    std::fprintf(stderr, "reelfarm node: --threads takes 1 to 64\n%s%s", farm::node_usage(),
                 threads_usage);
    return exit_usage;
  }
  farm::set_default_animatic_threads(threads);
  auto metrics_at = take_metrics_port(args);
  auto parsed = farm::parse_node_args(args);
  if (!parsed) {
    std::fprintf(stderr, "reelfarm node: %s\n%s", parsed.error().message().c_str(),
                 farm::node_usage());
    return exit_usage;
  }
  auto cfg = load_configuration(options);
  if (!cfg) {
    return exit_usage;
  }
  auto node_options = std::move(parsed).value();
  // Provider endpoints and keys: configuration and environment only.
  const auto& pv = cfg->providers;
  node_options.providers.urls = {
      {"comfyui", pv.comfyui_url}, {"replicate", pv.replicate_url}, {"runpod", pv.runpod_url}};
  node_options.providers.keys = {{"comfyui", pv.comfyui_api_key},
                                 {"replicate", pv.replicate_api_token},
                                 {"runpod", pv.runpod_api_key}};
  if (node_options.token.empty()) {
    // The token is a secret: the environment keeps it out of `ps`.
    if (const char* token = std::getenv("REELFARM_JOIN_TOKEN"); token != nullptr) {
      node_options.token = token;
    }
  }
  // Render backends (exec programs) inherit the environment: not the token.
  ::unsetenv("REELFARM_JOIN_TOKEN");
  if (node_options.data_dir.empty()) {
    auto data = cfg->embedded.data_dir.empty() ? default_data_dir()
                                               : std::filesystem::path(cfg->embedded.data_dir);
    node_options.data_dir = data / "node";
  }
  auto metrics_endpoint = metrics::serve_flag(metrics_at);
  if (!metrics_endpoint) {
    std::fprintf(stderr, "reelfarm node: %s\n", metrics_endpoint.error().message().c_str());
    return exit_usage;
  }
  metrics::register_build_info(REELFARM_VERSION);
  signals::install_stop_handlers();
  return farm::run_node_agent(node_options, [] { return signals::stop_requested(); });
}

}  // namespace reelfarm::app
