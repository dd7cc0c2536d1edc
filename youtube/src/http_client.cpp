#include "reelfarm/youtube/http_client.hpp"

#include "reelfarm/common/errc.hpp"
#include "reelfarm/youtube/errc.hpp"

namespace reelfarm::youtube {

result<http_response> http_client::perform(const http_request& request) {
  auto response = client_.perform(request);
  if (response) {
    return response;
  }
  const auto& e = response.error();
  if (e.is(common_errc::timeout)) {
    return error(youtube_errc::timeout, e.message());
  }
  if (e.is(common_errc::invalid_response)) {
    return error(youtube_errc::invalid_response, e.message());
  }
  return error(youtube_errc::transport, e.message());
}

}  // namespace reelfarm::youtube
