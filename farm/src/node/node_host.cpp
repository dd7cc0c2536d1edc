#include "reelfarm/farm/node/node_host.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include <cstdio>
#include <sstream>

#include "reelfarm/common/filesystem.hpp"
#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/protocol/codec.hpp"

namespace reelfarm::farm {
namespace {

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string run_nvidia_smi() {
  std::string out;
  FILE* pipe = ::popen(
      "nvidia-smi --query-gpu=index,memory.total,utilization.gpu --format=csv,noheader,nounits "
      "2>/dev/null",
      "r");
  if (pipe == nullptr) {
    return out;
  }
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0 && out.size() < 65536) {
    out.append(buf, n);
  }
  ::pclose(pipe);
  return out;
}

}  // namespace

std::vector<gpu_info> parse_nvidia_smi(const std::string& csv) {
  std::vector<gpu_info> gpus;
  std::istringstream lines(csv);
  std::string line;
  while (std::getline(lines, line) && gpus.size() < 64) {
    std::istringstream fields(line);
    std::string a, b, c;
    if (!std::getline(fields, a, ',') || !std::getline(fields, b, ',')) {
      continue;
    }
    std::getline(fields, c, ',');
    try {
      gpu_info g;
      g.index = std::stoi(trim(a));
      g.memory_mb = std::stoull(trim(b));
      auto u = trim(c);
      g.utilization = u.empty() || u[0] == '[' ? 0 : std::clamp(std::stoi(u), 0, 100);
      gpus.push_back(g);
    } catch (...) {
      continue;  // "[N/A]" and the like
    }
  }
  return gpus;
}

result<std::vector<gpu_info>> detect_gpus(const std::string& mode) {
  if (mode == "none") {
    return std::vector<gpu_info>{};
  }
  auto all = parse_nvidia_smi(run_nvidia_smi());
  if (mode == "auto") {
    return all;
  }
  std::vector<gpu_info> chosen;
  std::istringstream list(mode);
  std::string item;
  while (std::getline(list, item, ',')) {
    int index = -1;
    try {
      index = std::stoi(trim(item));
    } catch (...) {
      return error(farm_errc::invalid_argument,
                   "--gpus takes auto, none or indexes like 0,1; got \"" + mode + "\"");
    }
    auto it =
        std::find_if(all.begin(), all.end(), [&](const gpu_info& g) { return g.index == index; });
    chosen.push_back(it != all.end() ? *it : gpu_info{index, 0, 0});
  }
  return chosen;
}

result<std::string> load_or_create_node_id(const std::filesystem::path& dir) {
  auto file = dir / "node-id";
  if (auto text = read_file(file)) {
    auto id = trim(*text);
    if (!valid_node_id(id)) {
      return error(farm_errc::invalid_field, file.string() + " holds no valid node id");
    }
    return id;
  }
  if (auto made = ensure_directory(dir, 0755); !made) {
    return made.error();
  }
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  std::string prefix;
  for (char c : std::string(host).substr(0, 40)) {
    prefix += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '-';
  }
  auto suffix = random_hex(4);
  if (!suffix) {
    return suffix.error();
  }
  auto id = (prefix.empty() ? "node" : prefix) + "-" + *suffix;
  if (auto w = write_file_atomically(file, id + "\n", 0644); !w) {
    return w.error();
  }
  return id;
}

}  // namespace reelfarm::farm
