#include "reelfarm/youtube/errc.hpp"

namespace reelfarm {

std::string_view category_of(youtube_errc) noexcept {
  return "youtube";
}

std::string_view to_string(youtube_errc code) noexcept {
  switch (code) {
    case youtube_errc::config:
      return "config";
    case youtube_errc::transport:
      return "transport";
    case youtube_errc::timeout:
      return "timeout";
    case youtube_errc::server_error:
      return "server_error";
    case youtube_errc::unauthorized:
      return "unauthorized";
    case youtube_errc::invalid_grant:
      return "invalid_grant";
    case youtube_errc::invalid_state:
      return "invalid_state";
    case youtube_errc::quota_exceeded:
      return "quota_exceeded";
    case youtube_errc::session_expired:
      return "session_expired";
    case youtube_errc::rejected:
      return "rejected";
    case youtube_errc::invalid_response:
      return "invalid_response";
    case youtube_errc::database:
      return "database";
    case youtube_errc::not_connected:
      return "not_connected";
    case youtube_errc::file:
      return "file";
    case youtube_errc::crypto:
      return "crypto";
    case youtube_errc::cancelled:
      return "cancelled";
  }
  return "unknown";
}

bool is_transient(youtube_errc code) noexcept {
  switch (code) {
    case youtube_errc::transport:
    case youtube_errc::timeout:
    case youtube_errc::server_error:
    case youtube_errc::database:
      return true;
    default:
      return false;
  }
}

}  // namespace reelfarm
