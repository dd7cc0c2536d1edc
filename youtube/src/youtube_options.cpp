#include "reelfarm/youtube/youtube_options.hpp"

#include "reelfarm/youtube/errc.hpp"
#include "reelfarm/youtube/token_cipher.hpp"

namespace reelfarm::youtube {

namespace {

bool is_http_url(const std::string& url) {
  return url.starts_with("https://") || url.starts_with("http://");
}

}  // namespace

result<void> youtube_options::validate() const {
  if (!enabled()) {
    return ok();
  }
  const std::pair<const char*, const std::string*> urls[] = {
      {"youtube.auth_url", &auth_url},     {"youtube.token_url", &token_url},
      {"youtube.revoke_url", &revoke_url}, {"youtube.api_url", &api_url},
      {"youtube.upload_url", &upload_url}, {"youtube.redirect_uri", &redirect_uri}};
  for (const auto& [name, url] : urls) {
    if (!is_http_url(*url)) {
      return error(youtube_errc::config,
                   std::string(name) + " must be an http:// or https:// URL, not '" + *url + "'");
    }
  }
  if (chunk_size == 0 || chunk_size % chunk_granularity != 0) {
    return error(
        youtube_errc::config,
        "youtube.chunk_size must be a multiple of 262144 bytes, not " + std::to_string(chunk_size));
  }
  if (auto key = token_cipher::create(token_key); !key) {
    return key.error();
  }
  return ok();
}

youtube_options options_from(const youtube_settings& s) {
  youtube_options o;
  o.client_id = s.client_id;
  o.client_secret = s.client_secret;
  o.redirect_uri = s.redirect_uri;
  o.token_key = s.token_key;
  o.auth_url = s.auth_url;
  o.token_url = s.token_url;
  o.revoke_url = s.revoke_url;
  o.api_url = s.api_url;
  o.upload_url = s.upload_url;
  o.chunk_size = static_cast<std::size_t>(s.chunk_size);
  return o;
}

}  // namespace reelfarm::youtube
