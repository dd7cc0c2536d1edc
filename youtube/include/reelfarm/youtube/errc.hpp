#pragma once

#include <string_view>

namespace reelfarm {

/// Errors of the YouTube client: OAuth, the resumable upload, the Data API
/// calls, quota accounting and the upload records.
enum class youtube_errc {
  config = 1,        ///< an option is missing or invalid (client id, key, chunk size)
  transport,         ///< the connection failed or dropped before a full answer
  timeout,           ///< YouTube did not answer within the request timeout
  server_error,      ///< YouTube answered 500, 502, 503 or 504
  unauthorized,      ///< 401 even with a freshly refreshed access token
  invalid_grant,     ///< the refresh token was revoked or expired: reconnect the channel
  invalid_state,     ///< the OAuth state is forged, expired or for another user
  quota_exceeded,    ///< the daily quota would be exceeded; nothing was sent
  session_expired,   ///< the upload session is gone (404/410): start a new one
  rejected,          ///< YouTube refused the request (4xx other than the above)
  invalid_response,  ///< an answer that does not follow the documented format, or too big
  database,          ///< PostgreSQL failed
  not_connected,     ///< the user has connected no YouTube channel
  file,              ///< the film or thumbnail cannot be read
  crypto,            ///< a stored token cannot be decrypted (wrong key or tampered)
  cancelled,         ///< the worker is stopping; the upload resumes at the next start
};

std::string_view category_of(youtube_errc) noexcept;
std::string_view to_string(youtube_errc code) noexcept;

/// True for failures that go away by themselves (retry with backoff).
bool is_transient(youtube_errc code) noexcept;

}  // namespace reelfarm
