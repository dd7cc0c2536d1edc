// `reelfarm ctl credits [history]` and `reelfarm ctl nodes ...` through the API.
#include "api_json.hpp"
#include "ctl_api.hpp"

namespace reelfarm::app {
namespace {

int print_json(const nlohmann::json& j) {
  std::puts(j.dump(2).c_str());
  return exit_ok;
}

int credits_history(ctl_session& s, api_client& api) {
  auto page = api.call("GET", "/credits/history?limit=" + s.args.value("--limit", "50"));
  if (!page) {
    return fail(page.error());
  }
  if (s.args.has("--json")) {
    return print_json(*page);
  }
  std::printf("%-8s  %-27s  %-12s  %8s  %8s  %s\n", "ID", "WHEN", "KIND", "DELTA", "BALANCE",
              "DESCRIPTION");
  for (const auto& e : array_of(*page, "items")) {
    std::printf("%-8lld  %-27s  %-12s  %+8lld  %8lld  %s\n",
                static_cast<long long>(integer_of(e, "id")), text_or(e, "created_at").c_str(),
                text_or(e, "kind").c_str(), static_cast<long long>(integer_or(e, "delta", 0)),
                static_cast<long long>(integer_or(e, "balance_after", 0)),
                text_or(e, "description").c_str());
  }
  return exit_ok;
}

}  // namespace

int ctl_credits(ctl_session& s) {
  const auto& w = s.args.words;
  bool history = w.size() == 2 && w[1] == "history";
  if (w.size() > 2 || (w.size() == 2 && !history)) {
    print_ctl_usage(stderr);
    return exit_usage;
  }
  auto api = s.client();
  if (history) {
    return credits_history(s, api);
  }
  auto balance = api.call("GET", "/credits/balance");
  if (!balance) {
    return fail(balance.error());
  }
  if (s.args.has("--json")) {
    return print_json(*balance);
  }
  bool unlimited = balance->contains("unlimited") && (*balance)["unlimited"] == true;
  std::printf("balance    %lld credits%s\nplan       %s\nrenews on  %s\n",
              static_cast<long long>(integer_of(*balance, "balance")),
              unlimited ? " (unlimited)" : "", text_of(*balance, "plan").c_str(),
              text_or(*balance, "renews_on", "-").c_str());
  return exit_ok;
}

int ctl_nodes(ctl_session& s) {
  const auto& w = s.args.words;
  bool list = w.size() == 2 && w[1] == "list";
  bool change = w.size() == 3 && (w[1] == "drain" || w[1] == "undrain" || w[1] == "remove");
  if (!list && !change) {
    print_ctl_usage(stderr);
    return exit_usage;
  }
  auto api = s.client();
  if (list) {
    auto nodes = api.call("GET", "/nodes");
    if (!nodes) {
      return fail(nodes.error());
    }
    const auto& items = array_of(*nodes, "items");
    s.args.has("--json") ? (void)print_json(items) : print_node_table(items);
    return exit_ok;
  }
  auto done = w[1] == "remove" ? api.call("DELETE", "/nodes/" + w[2])
                               : api.call("POST", "/nodes/" + w[2] + "/" + w[1]);
  if (!done) {
    return fail(done.error());
  }
  std::printf("node %s: %s done\n", w[2].c_str(), w[1].c_str());
  return exit_ok;
}

}  // namespace reelfarm::app
