#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "credentials.hpp"
#include "ctl_api.hpp"
#include "reelfarm/farm/coordinator/admin_client.hpp"
#include "reelfarm/store/embedded_options.hpp"

namespace reelfarm::app {
namespace {

// The rule of `ctl nodes`: ZeroMQ with --coordinator, or when there is
// neither an API URL (--api, REELFARM_API) nor a stored login.
bool nodes_over_zeromq(const std::vector<std::string>& args) {
  bool api = false;
  for (const auto& a : args) {
    // Tokens and revocations exist on the farm socket only.
    if (a == "--coordinator" || a == "--operator-key" || a == "token" || a == "revoke") {
      return true;
    }
    api = api || a == "--api" || a.starts_with("--api=");
  }
  const char* env = std::getenv("REELFARM_API");
  api = api || (env != nullptr && *env != '\0');
  std::error_code ec;
  return !api && !std::filesystem::exists(credentials_path(), ec);
}

std::string first_word(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (!args[i].starts_with("-")) {
      return args[i];
    }
    if (args[i] == "--coordinator" || args[i] == "--api") {
      ++i;
    }
  }
  return "";
}

}  // namespace

void print_node_table(const nlohmann::json& nodes) {
  if (!nodes.is_array()) {
    std::puts(nodes.dump().c_str());
    return;
  }
  std::printf("%-24s %-9s %-10s %-5s %-28s %-14s %-9s %s\n", "NODE", "STATE", "SLOTS", "FAIL",
              "GPUS", "LAST HEARTBEAT", "BACKENDS", "LEASES");
  for (const auto& n : nodes) {
    std::string gpus;
    for (const auto& g : n["gpus"]) {
      gpus += (gpus.empty() ? "" : ",") + std::to_string(g["index"].get<int>()) + ":" +
              std::to_string(g["memory_mb"].get<std::uint64_t>() / 1024) + "G";
    }
    std::string leases;
    for (const auto& l : n["leases"]) {
      leases += (leases.empty() ? "" : ",") + std::to_string(l.get<std::uint64_t>());
    }
    std::string backends;
    for (const auto& b : n["backends"]) {
      backends += (backends.empty() ? "" : ",") + b.get<std::string>();
    }
    auto slots = std::to_string(n["used"].get<int>()) + "/" + std::to_string(n["slots"].get<int>());
    auto ago = std::to_string(n["last_heartbeat_ms_ago"].get<long long>()) + " ms ago";
    std::printf("%-24s %-9s %-10s %-5d %-28s %-14s %-9s %s\n", n["id"].get<std::string>().c_str(),
                n["state"].get<std::string>().c_str(), slots.c_str(), n["failures"].get<int>(),
                gpus.empty() ? "-" : gpus.c_str(), ago.c_str(), backends.c_str(),
                leases.empty() ? "-" : leases.c_str());
  }
}

namespace {

// `reelfarm ctl nodes ...` over the coordinator's ZeroMQ admin frames.
int nodes_by_zeromq(const std::vector<std::string>& args, const global_options& options) {
  auto cfg = load_configuration(options);
  if (!cfg) {
    return exit_usage;
  }
  std::string endpoint = cfg->farm.bind;
  auto key_file = farm::operator_key_path(cfg->embedded.data_dir.empty()
                                              ? default_data_dir()
                                              : std::filesystem::path(cfg->embedded.data_dir));
  std::string ttl_text;
  bool json = false;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--coordinator" && i + 1 < args.size()) {
      endpoint = args[++i];
    } else if (args[i] == "--operator-key" && i + 1 < args.size()) {
      key_file = args[++i];
    } else if (args[i] == "--ttl" && i + 1 < args.size()) {
      ttl_text = args[++i];
    } else if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--help" || args[i] == "-h") {
      print_ctl_usage(stdout);
      return exit_ok;
    } else {
      words.push_back(args[i]);
    }
  }
  bool list = words.size() == 2 && words[0] == "nodes" && words[1] == "list";
  bool token = words.size() == 2 && words[0] == "nodes" && words[1] == "token";
  bool change = words.size() == 3 && words[0] == "nodes" &&
                (words[1] == "drain" || words[1] == "undrain" || words[1] == "remove" ||
                 words[1] == "revoke");
  if (!list && !change && !token) {
    print_ctl_usage(stderr);
    return exit_usage;
  }
  std::string target = change ? words[2] : "";
  if (token && !ttl_text.empty()) {
    auto ttl = parse_duration(ttl_text);
    if (!ttl) {
      std::fprintf(stderr, "reelfarm ctl: --ttl: %s\n", ttl.error().message().c_str());
      return exit_usage;
    }
    target = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(*ttl).count());
  }
  auto credentials = farm::read_farm_credentials(key_file);
  if (!credentials) {
    std::fprintf(stderr,
                 "reelfarm ctl: %s\n  (the coordinator writes its operator key there when it "
                 "starts; elsewhere, copy it and pass --operator-key FILE)\n",
                 credentials.error().message().c_str());
    return exit_failure;
  }
  farm::admin_msg request{words[1], target};
  auto reply = farm::admin_request(endpoint, *credentials, request, std::chrono::seconds(5));
  if (!reply) {
    std::fprintf(stderr, "reelfarm ctl: %s\n", reply.error().message().c_str());
    return exit_failure;
  }
  if (!reply->ok) {
    std::fprintf(stderr, "reelfarm ctl: %s\n", reply->message.c_str());
    return exit_failure;
  }
  if (token) {
    // Only the token on stdout, so `--token "$(reelfarm ctl nodes token)"` works.
    auto body = nlohmann::json::parse(reply->body, nullptr, false);
    if (!body.is_object() || !body.contains("token") || !body["token"].is_string()) {
      return fail("malformed token answer from the coordinator");
    }
    const std::string text = body["token"];
    std::puts(text.c_str());
    std::fprintf(stderr, "join token valid for %s: reelfarm node --join %s --token TOKEN\n",
                 format_duration(std::chrono::seconds(body.value("expires_in", 0))).c_str(),
                 endpoint.c_str());
  } else if (list) {
    auto nodes = nlohmann::json::parse(reply->body, nullptr, false);
    json || !nodes.is_array() ? (void)std::puts(reply->body.c_str()) : print_node_table(nodes);
  } else {
    std::printf("node %s: %s done\n", words[2].c_str(), words[1].c_str());
  }
  return exit_ok;
}

}  // namespace

// `reelfarm ctl ...`: crm on PostgreSQL, nodes over ZeroMQ or the API, the
// rest through the HTTP API (cmd_ctl_api.cpp).
int cmd_ctl(const std::vector<std::string>& args, const global_options& options) {
  if (!args.empty() && args[0] == "crm") {
    return run_ctl_crm(args, options);
  }
  if (first_word(args) == "nodes" && nodes_over_zeromq(args)) {
    try {
      return nodes_by_zeromq(args, options);
    } catch (const nlohmann::json::exception& e) {
      return fail(std::string("malformed node list from the coordinator: ") + e.what());
    }
  }
  return run_ctl_api(args, options);
}

}  // namespace reelfarm::app
