#include "reelfarm/gateway/router.hpp"

#include <algorithm>

namespace reelfarm::gateway {

const std::string& request_context::param(std::string_view name) const {
  static const std::string empty;
  auto it = params.find(name);
  return it == params.end() ? empty : it->second;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') {
    return out;
  }
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      break;
    }
    path.remove_prefix(slash + 1);
  }
  return out;
}

void router::add(route r) {
  std::vector<std::string> parts;
  for (auto s : split_path(r.pattern)) {
    parts.emplace_back(s);
  }
  segments_.push_back(std::move(parts));
  routes_.push_back(std::move(r));
}

namespace {
bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Matches one pattern; fills `params` on success.
bool match_segments(const std::vector<std::string>& pattern,
                    const std::vector<std::string_view>& path,
                    std::map<std::string, std::string, std::less<>>& params) {
  if (pattern.size() != path.size()) {
    return false;
  }
  params.clear();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (is_param(pattern[i])) {
      auto decoded = percent_decode(path[i], false);
      if (path[i].empty() || !decoded || decoded->find('/') != std::string::npos) {
        return false;
      }
      params.emplace(pattern[i].substr(1, pattern[i].size() - 2), std::move(*decoded));
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}
}  // namespace

route_match router::match(std::string_view method, std::string_view path) const {
  route_match out;
  auto parts = split_path(path);
  std::map<std::string, std::string, std::less<>> params;
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (!match_segments(segments_[i], parts, params)) {
      continue;
    }
    if (routes_[i].method == method) {
      out.found = &routes_[i];
      out.params = std::move(params);
      out.allowed.clear();
      return out;
    }
    if (std::find(out.allowed.begin(), out.allowed.end(), routes_[i].method) == out.allowed.end()) {
      out.allowed.push_back(routes_[i].method);
    }
  }
  return out;
}

}  // namespace reelfarm::gateway
