#include "reelfarm/youtube/oauth_client.hpp"

#include <nlohmann/json.hpp>

#include "reelfarm/youtube/errc.hpp"
#include "reelfarm/youtube/google_error.hpp"

namespace reelfarm::youtube {

oauth_client::oauth_client(const youtube_options& options)
    : options_(options), http_(options.request_timeout, options.connect_timeout, 64 << 10) {}

std::string oauth_client::consent_url(const std::string& state) const {
  const char sep = options_.auth_url.find('?') == std::string::npos ? '?' : '&';
  return options_.auth_url + sep + "client_id=" + url_encode(options_.client_id) +
         "&redirect_uri=" + url_encode(options_.redirect_uri) + "&response_type=code" +
         "&scope=" + url_encode(options_.scope) + "&access_type=offline&prompt=consent" +
         "&include_granted_scopes=true&state=" + url_encode(state);
}

result<token_grant> oauth_client::exchange_code(const std::string& code) {
  if (code.empty() || code.size() > 2048) {
    return error(youtube_errc::rejected, "the authorization code is missing or too long");
  }
  return token_request("grant_type=authorization_code&code=" + url_encode(code) +
                           "&redirect_uri=" + url_encode(options_.redirect_uri),
                       true);
}

result<token_grant> oauth_client::refresh(const std::string& refresh_token) {
  return token_request("grant_type=refresh_token&refresh_token=" + url_encode(refresh_token),
                       false);
}

result<token_grant> oauth_client::token_request(const std::string& form,
                                                bool expect_refresh_token) {
  http_request request;
  request.method = "POST";
  request.url = options_.token_url;
  request.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
  const auto body = form + "&client_id=" + url_encode(options_.client_id) +
                    "&client_secret=" + url_encode(options_.client_secret);
  request.body = body;
  auto response = http_.perform(request);
  if (!response) {
    return std::move(response).error();
  }
  if (response->status != 200) {
    return google_error(*response, "the OAuth token endpoint");
  }
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (!json.is_object() || !json.contains("access_token") || !json["access_token"].is_string()) {
    return error(youtube_errc::invalid_response,
                 "the OAuth token endpoint answered without an access_token");
  }
  token_grant grant;
  grant.access_token = json["access_token"].get<std::string>();
  if (auto r = json.find("refresh_token"); r != json.end() && r->is_string()) {
    grant.refresh_token = r->get<std::string>();
  }
  if (auto e = json.find("expires_in"); e != json.end() && e->is_number_integer()) {
    grant.expires_in = std::chrono::seconds(e->get<std::int64_t>());
  }
  grant.scope = json.value("scope", std::string());
  if (expect_refresh_token && grant.refresh_token.empty()) {
    // Without offline access the channel could not be used once the hour
    // is over; refuse now rather than fail at the first upload.
    return error(youtube_errc::invalid_response,
                 "Google granted no refresh token (offline access); connect the channel again");
  }
  return grant;
}

result<void> oauth_client::revoke(const std::string& token) {
  http_request request;
  request.method = "POST";
  request.url = options_.revoke_url;
  request.headers = {"Content-Type: application/x-www-form-urlencoded"};
  const auto body = "token=" + url_encode(token);
  request.body = body;
  auto response = http_.perform(request);
  if (!response) {
    return std::move(response).error();
  }
  if (response->status == 200) {
    return ok();
  }
  auto e = google_error(*response, "the OAuth revocation endpoint");
  if (response->status == 400 && response->body.find("invalid_token") != std::string::npos) {
    return ok();  // already revoked or expired: the goal is reached
  }
  return e;
}

}  // namespace reelfarm::youtube
