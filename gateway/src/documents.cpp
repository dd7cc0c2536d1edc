#include <string_view>
#include <utility>
#include <vector>

#include "reelfarm/gateway/api.hpp"

namespace reelfarm::gateway {

namespace generated {
const std::vector<std::pair<std::string_view, std::string_view>>& documents();
}

namespace {
std::string_view document(std::string_view name) {
  for (const auto& [file, text] : generated::documents()) {
    if (file == name) {
      return text;
    }
  }
  return {};
}
}  // namespace

std::string_view openapi_document() {
  return document("openapi.json");
}

std::string_view docs_page() {
  return document("docs.html");
}

}  // namespace reelfarm::gateway
