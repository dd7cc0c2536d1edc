#include "credentials.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "reelfarm/common/filesystem.hpp"

namespace reelfarm::app {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

result<void> ensure_private_folder(const std::filesystem::path& dir) {
  std::error_code ec;
  if (dir.empty() || std::filesystem::is_directory(dir, ec)) {
    return ok();
  }
  std::filesystem::create_directories(dir.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return error(ctl_errc::local, "cannot create " + dir.string() + ": " + std::strerror(errno));
  }
  return ok();
}

}  // namespace

std::filesystem::path credentials_path() {
  if (auto file = env("REELFARM_CREDENTIALS"); !file.empty()) {
    return file;
  }
  std::filesystem::path config = env("XDG_CONFIG_HOME");
  if (config.empty()) {
    config = std::filesystem::path(env("HOME")) / ".config";
  }
  return config / "reelfarm" / "credentials.json";
}

result<std::optional<credentials>> load_credentials(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return std::optional<credentials>();
  }
  auto text = read_file(file);
  if (!text) {
    return error(ctl_errc::local, text.error().message());
  }
  auto j = nlohmann::json::parse(*text, nullptr, false);
  auto field = [&](const char* key) -> const nlohmann::json* {
    auto it = j.is_object() ? j.find(key) : j.end();
    return it != j.end() && it->is_string() ? &*it : nullptr;
  };
  if (!field("api") || !field("access_token") || !field("refresh_token")) {
    return error(ctl_errc::local, file.string() +
                                      " is not a Reelfarm credentials file; delete it and run "
                                      "`reelfarm ctl login`");
  }
  credentials c{
      field("api")->get<std::string>(), field("email") ? field("email")->get<std::string>() : "",
      field("access_token")->get<std::string>(), field("refresh_token")->get<std::string>()};
  return std::optional<credentials>(std::move(c));
}

result<void> save_credentials(const std::filesystem::path& file, const credentials& c) {
  if (auto made = ensure_private_folder(file.parent_path()); !made) {
    return made;
  }
  nlohmann::json j{{"api", c.api},
                   {"email", c.email},
                   {"access_token", c.access_token},
                   {"refresh_token", c.refresh_token}};
  auto written = write_file_atomically(file, j.dump(2) + "\n", 0600);
  if (!written) {
    return error(ctl_errc::local, written.error().message());
  }
  return ok();
}

result<void> remove_credentials(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::remove(file, ec);
  if (ec) {
    return error(ctl_errc::local, "cannot delete " + file.string() + ": " + ec.message());
  }
  return ok();
}

}  // namespace reelfarm::app
