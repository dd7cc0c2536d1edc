#include "api_client.hpp"

#include "api_json.hpp"

namespace reelfarm::app {
namespace {

using json = nlohmann::json;

bool success(long status) {
  return status >= 200 && status < 300;
}

/// The API's error code of an answer, or "" when it is not an API error.
std::string error_code(const http_response& answer) {
  auto j = json::parse(answer.body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) {
    return "";
  }
  const auto& e = j["error"];
  return e.contains("code") && e["code"].is_string() ? e["code"].get<std::string>() : "";
}

}  // namespace

std::string normalize_api_url(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  if (!url.ends_with("/api/v1")) {
    url += "/api/v1";
  }
  return url;
}

reelfarm::error answer_error(const http_response& answer) {
  auto status = std::to_string(answer.status);
  auto kind = answer.status >= 500 || answer.status == 429 ? ctl_errc::server : ctl_errc::refused;
  auto j = json::parse(answer.body, nullptr, false);
  auto code = error_code(answer);
  const json* message = code.empty() ? nullptr : &j["error"]["message"];
  if (message == nullptr || !message->is_string()) {
    return error(answer.status >= 500 ? ctl_errc::server : ctl_errc::malformed,
                 "the server answered HTTP " + status + " without an API error body");
  }
  auto text = message->get<std::string>() + " (" + code + ", HTTP " + status + ")";
  if (answer.status == 401 && code != "invalid_credentials") {
    text += "; run `reelfarm ctl login` again";
  }
  return error(kind, text);
}

api_client::api_client(std::string api, std::optional<credentials> login,
                       std::filesystem::path file)
    : api_(normalize_api_url(std::move(api))), file_(std::move(file)) {
  // Tokens go only to the server that issued them.
  if (login && normalize_api_url(login->api) == api_) {
    login_ = std::move(login);
  }
}

result<json> api_client::call(const std::string& method, const std::string& path,
                              const std::optional<json>& body) {
  http_request request;
  request.method = method;
  request.url = path;
  if (body) {
    request.body = body->dump();
  }
  auto answer = fetch(std::move(request));
  if (!answer) {
    return answer.error();
  }
  if (answer->body.empty()) {
    return json();
  }
  auto parsed = json::parse(answer->body, nullptr, false);
  if (parsed.is_discarded()) {
    return error(ctl_errc::malformed, "the answer of " + method + " " + api_ + path +
                                          " is not JSON (HTTP " + std::to_string(answer->status) +
                                          ")");
  }
  return parsed;
}

result<http_response> api_client::exchange(http_request request) {
  bool auth = !request.url.starts_with("/auth/");
  request.url = api_ + request.url;
  return send(std::move(request), auth);
}

result<http_response> api_client::fetch(http_request request) {
  auto answer = exchange(std::move(request));
  if (!answer) {
    return answer.error();
  }
  if (!success(answer->status)) {
    return answer_error(*answer);
  }
  return answer;
}

result<http_response> api_client::send(http_request request, bool auth) {
  if (auth && !login_) {
    return error(ctl_errc::refused,
                 "not logged in to " + api_ + ": run `reelfarm ctl login --api URL` first");
  }
  for (int attempt = 0;; ++attempt) {
    auto with_token = request;
    if (auth) {
      with_token.headers.push_back("Authorization: Bearer " + login_->access_token);
    }
    auto answer = http_perform(with_token);
    if (!answer || !auth || attempt > 0 || answer->status != 401 ||
        error_code(*answer) != "token_expired") {
      return answer;
    }
    if (auto renewed = refresh(); !renewed) {
      return renewed.error();
    }
  }
}

// POST /auth/refresh rotates the pair: the new one replaces the stored one.
result<void> api_client::refresh() {
  http_request request;
  request.method = "POST";
  request.url = api_ + "/auth/refresh";
  request.body = json{{"refresh_token", login_->refresh_token}}.dump();
  auto answer = http_perform(request);
  if (!answer) {
    return answer.error();
  }
  if (!success(answer->status)) {
    return answer_error(*answer);
  }
  auto pair = json::parse(answer->body, nullptr, false);
  login_->access_token = text_of(pair, "access_token");
  login_->refresh_token = text_of(pair, "refresh_token");
  return save_credentials(file_, *login_);
}

}  // namespace reelfarm::app
