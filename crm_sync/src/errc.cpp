#include "reelfarm/crm_sync/errc.hpp"

namespace reelfarm {

std::string_view category_of(crm_errc) noexcept {
  return "crm";
}

std::string_view to_string(crm_errc code) noexcept {
  switch (code) {
    case crm_errc::config:
      return "config";
    case crm_errc::transport:
      return "transport";
    case crm_errc::timeout:
      return "timeout";
    case crm_errc::server_error:
      return "server_error";
    case crm_errc::unable_to_lock:
      return "unable_to_lock";
    case crm_errc::limit_exceeded:
      return "limit_exceeded";
    case crm_errc::session_expired:
      return "session_expired";
    case crm_errc::auth_failed:
      return "auth_failed";
    case crm_errc::rejected:
      return "rejected";
    case crm_errc::invalid_response:
      return "invalid_response";
    case crm_errc::database:
      return "database";
  }
  return "unknown";
}

bool is_transient(crm_errc code) noexcept {
  switch (code) {
    case crm_errc::transport:
    case crm_errc::timeout:
    case crm_errc::server_error:
    case crm_errc::unable_to_lock:
    case crm_errc::limit_exceeded:
    case crm_errc::session_expired:
    case crm_errc::invalid_response:
    case crm_errc::database:
      return true;
    default:
      return false;
  }
}

}  // namespace reelfarm
