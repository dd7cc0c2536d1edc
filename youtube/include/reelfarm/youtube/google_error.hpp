#pragma once

#include <string_view>

#include "reelfarm/common/error.hpp"
#include "reelfarm/youtube/http_client.hpp"

namespace reelfarm::youtube {

/// The error for a Google answer that is not a success: 401 unauthorized,
/// 403 quotaExceeded as quota_exceeded, 5xx server_error, the token
/// endpoint's invalid_grant, other 4xx rejected. The message carries
/// Google's own words (bounded), never a token.
error google_error(const http_response& response, std::string_view what);

}  // namespace reelfarm::youtube
