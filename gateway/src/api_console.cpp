// The web console (web/, docs/console.md): static files embedded into the
// binary at build time, served at / and /console/*, with headers that keep
// the page from running anything but its own scripts.
#include <string_view>
#include <utility>
#include <vector>

#include "api_state.hpp"

namespace reelfarm::gateway {

namespace generated {
const std::vector<std::pair<std::string_view, std::string_view>>& console_files();
}

namespace {

std::string_view content_type_of(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".png", "image/png"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& [ext, type] : types) {
    if (name.ends_with(ext)) {
      return type;
    }
  }
  return "application/octet-stream";
}

std::string_view embedded(std::string_view name) {
  for (const auto& [file, bytes] : generated::console_files()) {
    if (file == name) {
      return bytes;
    }
  }
  return {};
}

// Scripts and styles only from this origin, none inline; media, images and
// the event stream from the API here too; never inside a frame.
constexpr std::string_view content_security_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

http_response page(std::string_view name, std::string body) {
  http_response res;
  res.content_type = std::string(content_type_of(name));
  res.body = std::move(body);
  res.set_header("Content-Security-Policy", std::string(content_security_policy));
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
  // Small files: revalidating each load costs little and a new build is
  // seen at once.
  res.set_header("Cache-Control", "no-cache");
  return res;
}

}  // namespace

std::optional<http_response> serve_console(const api_state& s, const http_request& request) {
  if (request.method != "GET") {
    return std::nullopt;
  }
  const auto& path = request.path;
  std::string_view name;
  if (path == "/" || path == "/index.html" || path == "/console" || path == "/console/") {
    name = "index.html";
  } else if (path.starts_with("/console/")) {
    name = std::string_view(path).substr(9);
  } else {
    return std::nullopt;
  }
  if (name == "config.json") {
    // What the page needs to know of this deployment; nothing secret.
    nlohmann::json config = {{"grafana_url", s.options.grafana_url.empty()
                                                 ? nlohmann::json(nullptr)
                                                 : nlohmann::json(s.options.grafana_url)}};
    return page(name, config.dump());
  }
  auto bytes = embedded(name);
  if (bytes.empty() || name == "README.md") {
    return error_response(404, "not_found", "no console file " + path);
  }
  return page(name, std::string(bytes));
}

}  // namespace reelfarm::gateway
