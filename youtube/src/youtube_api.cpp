#include "reelfarm/youtube/youtube_api.hpp"

#include <nlohmann/json.hpp>

#include "reelfarm/youtube/errc.hpp"
#include "reelfarm/youtube/google_error.hpp"

namespace reelfarm::youtube {

namespace {

std::string string_at(const nlohmann::json& j, std::string_view key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

youtube_api::youtube_api(const youtube_options& options, access_token_cache& tokens,
                         retry_settings retry)
    : options_(options),
      tokens_(tokens),
      retry_(std::move(retry)),
      http_(options.request_timeout, options.connect_timeout, 1 << 20),
      waits_(options.backoff_base, options.backoff_cap) {
  if (retry_.max_retries == retry_settings{}.max_retries) {
    retry_.max_retries = options.max_retries;
  }
}

result<nlohmann::json> youtube_api::call_json(http_request request, std::string_view what) {
  auto response = authorized_call(http_, tokens_, std::move(request), waits_, retry_);
  if (!response) {
    return std::move(response).error();
  }
  if (response->status != 200) {
    return google_error(*response, what);
  }
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (!json.is_object()) {
    return error(youtube_errc::invalid_response, std::string(what) + " answered no JSON object");
  }
  return json;
}

result<channel_info> youtube_api::my_channel() {
  http_request request;
  request.url = options_.api_url + "/channels?part=snippet&mine=true";
  request.headers = {"Accept: application/json"};
  auto json = call_json(std::move(request), "channels.list");
  if (!json) {
    return std::move(json).error();
  }
  auto items = json->find("items");
  if (items == json->end() || !items->is_array() || items->empty() || !(*items)[0].is_object()) {
    return error(youtube_errc::rejected,
                 "the Google account has no YouTube channel; create one, then connect again");
  }
  channel_info info;
  info.id = string_at((*items)[0], "id");
  if (auto snippet = (*items)[0].find("snippet"); snippet != (*items)[0].end()) {
    info.title = string_at(*snippet, "title");
  }
  if (info.id.empty()) {
    return error(youtube_errc::invalid_response, "channels.list answered a channel without id");
  }
  return info;
}

result<std::string> youtube_api::set_thumbnail(const std::string& video_id, std::string_view image,
                                               const std::string& content_type) {
  if (image.size() > 2 * 1024 * 1024) {
    return error(youtube_errc::file, "the thumbnail is larger than YouTube's 2 MB limit");
  }
  http_request request;
  request.method = "POST";
  request.url =
      options_.upload_url + "/thumbnails/set?videoId=" + url_encode(video_id) + "&uploadType=media";
  request.headers = {"Content-Type: " + content_type, "Accept: application/json"};
  request.body = image;
  auto json = call_json(std::move(request), "thumbnails.set");
  if (!json) {
    return std::move(json).error();
  }
  // items[0] maps sizes (default, medium, high, standard, maxres) to {url}.
  auto items = json->find("items");
  if (items == json->end() || !items->is_array() || items->empty() || !(*items)[0].is_object()) {
    return error(youtube_errc::invalid_response, "thumbnails.set answered no items");
  }
  for (const char* size : {"maxres", "standard", "high", "medium", "default"}) {
    if (auto t = (*items)[0].find(size); t != (*items)[0].end() && t->is_object()) {
      if (auto url = string_at(*t, "url"); !url.empty()) {
        return url;
      }
    }
  }
  return error(youtube_errc::invalid_response, "thumbnails.set answered no thumbnail URL");
}

result<std::string> youtube_api::insert_playlist(const std::string& title,
                                                 const std::string& privacy) {
  http_request request;
  request.method = "POST";
  request.url = options_.api_url + "/playlists?part=snippet,status";
  request.headers = {"Content-Type: application/json", "Accept: application/json"};
  const auto body =
      nlohmann::json{{"snippet", {{"title", title}}}, {"status", {{"privacyStatus", privacy}}}}
          .dump();
  request.body = body;
  auto json = call_json(std::move(request), "playlists.insert");
  if (!json) {
    return std::move(json).error();
  }
  auto id = string_at(*json, "id");
  if (id.empty()) {
    return error(youtube_errc::invalid_response, "playlists.insert answered no id");
  }
  return id;
}

result<std::string> youtube_api::insert_playlist_item(const std::string& playlist_id,
                                                      const std::string& video_id) {
  http_request request;
  request.method = "POST";
  request.url = options_.api_url + "/playlistItems?part=snippet";
  request.headers = {"Content-Type: application/json", "Accept: application/json"};
  const auto body =
      nlohmann::json{{"snippet",
                      {{"playlistId", playlist_id},
                       {"resourceId", {{"kind", "youtube#video"}, {"videoId", video_id}}}}}}
          .dump();
  request.body = body;
  auto json = call_json(std::move(request), "playlistItems.insert");
  if (!json) {
    return std::move(json).error();
  }
  auto id = string_at(*json, "id");
  if (id.empty()) {
    return error(youtube_errc::invalid_response, "playlistItems.insert answered no id");
  }
  return id;
}

}  // namespace reelfarm::youtube
