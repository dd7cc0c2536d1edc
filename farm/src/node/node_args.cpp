#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/node/node_agent.hpp"

namespace reelfarm::farm {

const char* node_usage() {
  return "usage: reelfarm node --join tcp://HOST:PORT [--token T] [--slots N]\n"
         "                     [--gpus auto|none|0,1]\n"
         "                     [--backend animatic|[NAME=]exec:/path/to/program]...\n"
         "                     [--backend comfyui=URL,workflow=FILE[,name=N][,deadline=S]]\n"
         "                     [--backend replicate=URL,model=OWNER/NAME[:VERSION]]\n"
         "                     [--backend runpod=URL,endpoint=ID]\n"
         "                     [--tag TAG]... [--reference REF]... [--node-dir DIR]\n"
         "                     [--media-dir DIR]\n"
         "  Joins a coordinator as a render node (backend: animatic unless --backend\n"
         "  says otherwise). The first start needs a join token (--token, or\n"
         "  REELFARM_JOIN_TOKEN; an operator makes one with `reelfarm ctl nodes token`):\n"
         "  the node's CURVE key is enrolled with it and kept, with the coordinator's\n"
         "  key, in DIR/farm-credentials.json. The node id is kept in DIR/node-id\n"
         "  (default: DATA_DIR/node) so a restarted node is recognised. Provider URLs\n"
         "  may come from providers.KIND_url; API keys only from the configuration or\n"
         "  REELFARM_PROVIDERS_{COMFYUI_API_KEY,REPLICATE_API_TOKEN,RUNPOD_API_KEY}.\n";
}

result<node_agent_options> parse_node_args(const std::vector<std::string>& args) {
  node_agent_options o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (i + 1 >= args.size()) {
      return error(farm_errc::invalid_argument, "unknown argument or missing value: " + a);
    }
    const auto& v = args[++i];
    if (a == "--join") {
      o.join = v;
    } else if (a == "--token") {
      o.token = v;
    } else if (a == "--slots") {
      try {
        o.slots = std::stoi(v);
      } catch (...) {
        o.slots = -1;
      }
      if (o.slots < 1 || o.slots > 256) {
        return error(farm_errc::invalid_argument, "--slots takes 1 to 256");
      }
    } else if (a == "--gpus") {
      o.gpus = v;
    } else if (a == "--backend") {
      o.backends.push_back(v);
    } else if (a == "--tag") {
      o.tags.push_back(v);
    } else if (a == "--reference") {
      o.references.push_back(v);
    } else if (a == "--node-dir") {
      o.data_dir = v;
    } else if (a == "--media-dir") {
      o.media_dir = v;
    } else {
      return error(farm_errc::invalid_argument, "unknown argument: " + a);
    }
  }
  if (!o.join.starts_with("tcp://") && !o.join.starts_with("ipc://")) {
    return error(farm_errc::invalid_argument, "--join tcp://HOST:PORT is required");
  }
  if (o.backends.empty()) {
    // The built-in renderer needs no model or provider, so a node joined with
    // one command renders at once.
    o.backends.emplace_back("animatic");
  }
  return o;
}

}  // namespace reelfarm::farm
