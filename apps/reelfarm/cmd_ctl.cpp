#include <cstdio>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "reelfarm/farm/coordinator/admin_client.hpp"

namespace reelfarm::app {
namespace {

void print_usage(std::FILE* out) {
  std::fputs(
      "usage: reelfarm ctl nodes list [--json] [--coordinator tcp://HOST:PORT]\n"
      "       reelfarm ctl nodes drain|undrain|remove NODE_ID [--coordinator tcp://HOST:PORT]\n"
      "       reelfarm ctl crm status|backfill|retry [ID]...\n"
      "  nodes: talks to a running coordinator over its ZeroMQ admin frames\n"
      "  (docs/protocol.md); default coordinator: farm.bind of the configuration.\n"
      "  crm: works on the farm's PostgreSQL (postgres.dsn, or a running serve).\n",
      out);
}

void print_nodes(const std::string& body) {
  auto nodes = nlohmann::json::parse(body, nullptr, false);
  if (!nodes.is_array()) {
    std::puts(body.c_str());
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

}  // namespace

// `reelfarm ctl nodes ...`: operator commands for render nodes.
int cmd_ctl(const std::vector<std::string>& args, const global_options& options) {
  if (!args.empty() && args[0] == "crm") {
    return run_ctl_crm(args, options);
  }
  auto cfg = load_configuration(options);
  if (!cfg) {
    return exit_usage;
  }
  std::string endpoint = cfg->farm.bind;
  bool json = false;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--coordinator" && i + 1 < args.size()) {
      endpoint = args[++i];
    } else if (args[i] == "--json") {
      json = true;
    } else if (args[i] == "--help" || args[i] == "-h") {
      print_usage(stdout);
      return exit_ok;
    } else {
      words.push_back(args[i]);
    }
  }
  bool list = words.size() == 2 && words[0] == "nodes" && words[1] == "list";
  bool change = words.size() == 3 && words[0] == "nodes" &&
                (words[1] == "drain" || words[1] == "undrain" || words[1] == "remove");
  if (!list && !change) {
    print_usage(stderr);
    return exit_usage;
  }
  farm::admin_msg request{words[1], change ? words[2] : ""};
  auto reply = farm::admin_request(endpoint, request, std::chrono::seconds(5));
  if (!reply) {
    std::fprintf(stderr, "reelfarm ctl: %s\n", reply.error().message().c_str());
    return exit_failure;
  }
  if (!reply->ok) {
    std::fprintf(stderr, "reelfarm ctl: %s\n", reply->message.c_str());
    return exit_failure;
  }
  if (list) {
    json ? (void)std::puts(reply->body.c_str()) : print_nodes(reply->body);
  } else {
    std::printf("node %s: %s done\n", words[2].c_str(), words[1].c_str());
  }
  return exit_ok;
}

}  // namespace reelfarm::app
