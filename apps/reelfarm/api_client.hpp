#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "credentials.hpp"
#include "http_client.hpp"
#include "reelfarm/common/result.hpp"

/// The Reelfarm HTTP API as `reelfarm ctl` uses it: bearer tokens, one
/// transparent refresh when the access token expired, and every error answer
/// turned into "<message> (<code>, HTTP <status>)".
namespace reelfarm::app {

/// "http://host:8080", "http://host:8080/" and "http://host:8080/api/v1" all
/// become "http://host:8080/api/v1".
std::string normalize_api_url(std::string url);

/// The error an answer with a non-2xx status stands for.
reelfarm::error answer_error(const http_response& answer);

class api_client {
 public:
  /// `login` is used only when it was made against `api`; refreshed tokens
  /// are written back to `file`.
  api_client(std::string api, std::optional<credentials> login, std::filesystem::path file);

  const std::string& api() const noexcept { return api_; }
  bool logged_in() const noexcept { return login_.has_value(); }
  const std::optional<credentials>& login() const noexcept { return login_; }

  /// A JSON call on `path` (below /api/v1). Except on /auth/ routes the
  /// access token goes along and an expired one is refreshed once. Returns
  /// the parsed body (null when empty); a body that is not JSON is an error.
  result<nlohmann::json> call(const std::string& method, const std::string& path,
                              const std::optional<nlohmann::json>& body = std::nullopt);

  /// A raw authorized call (events, media): `request.url` is a path below
  /// /api/v1. Answers other than 2xx come back as errors.
  result<http_response> fetch(http_request request);
  /// Like fetch, but every HTTP status is a success (the caller decides).
  result<http_response> exchange(http_request request);

 private:
  result<http_response> send(http_request request, bool auth);
  result<void> refresh();

  std::string api_;
  std::optional<credentials> login_;
  std::filesystem::path file_;
};

}  // namespace reelfarm::app
