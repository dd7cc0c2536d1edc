#include "reelfarm/youtube/google_error.hpp"

#include <nlohmann/json.hpp>

#include "reelfarm/youtube/errc.hpp"

namespace reelfarm::youtube {

error google_error(const http_response& response, std::string_view what) {
  std::string reason;
  std::string message;
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object()) {
    if (auto e = body.find("error"); e != body.end()) {
      if (e->is_string()) {  // the OAuth endpoints: {error, error_description}
        reason = e->get<std::string>();
        message = body.value("error_description", std::string());
      } else if (e->is_object()) {  // the Data API: {error: {code, message, errors[{reason}]}}
        message = e->value("message", std::string());
        if (auto errors = e->find("errors"); errors != e->end() && errors->is_array() &&
                                             !errors->empty() && (*errors)[0].is_object()) {
          reason = (*errors)[0].value("reason", std::string());
        }
      }
    }
  }
  if (message.size() > 300) {
    message.resize(300);
  }
  auto text = std::string(what) + " answered HTTP " + std::to_string(response.status) +
              (reason.empty() ? "" : " " + reason) + (message.empty() ? "" : ": " + message);
  if (reason == "invalid_grant") {
    return error(youtube_errc::invalid_grant,
                 text + "; the YouTube channel must be connected again");
  }
  if (reason == "quotaExceeded" || reason == "uploadLimitExceeded") {
    return error(youtube_errc::quota_exceeded, text);
  }
  switch (response.status) {
    case 401:
      return error(youtube_errc::unauthorized, text);
    case 500:
    case 502:
    case 503:
    case 504:
      return error(youtube_errc::server_error, text);
    default:
      return error(youtube_errc::rejected, text);
  }
}

}  // namespace reelfarm::youtube
