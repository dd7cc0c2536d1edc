#include "reelfarm/store/errc.hpp"

namespace reelfarm {

std::string_view category_of(store_errc) noexcept {
  return "store";
}

std::string_view to_string(store_errc code) noexcept {
  switch (code) {
    case store_errc::data_dir:
      return "data_dir";
    case store_errc::server_start:
      return "server_start";
    case store_errc::server_stop:
      return "server_stop";
    case store_errc::connection:
      return "connection";
    case store_errc::migration_newer:
      return "migration_newer";
    case store_errc::migration_changed:
      return "migration_changed";
    case store_errc::migration_failed:
      return "migration_failed";
    case store_errc::query:
      return "query";
    case store_errc::redis:
      return "redis";
    case store_errc::invalid_url:
      return "invalid_url";
    case store_errc::insufficient_credits:
      return "insufficient_credits";
    case store_errc::duplicate_email:
      return "duplicate_email";
    case store_errc::not_found:
      return "not_found";
    case store_errc::conflict:
      return "conflict";
    case store_errc::job_cancelled:
      return "job_cancelled";
    case store_errc::plan_file:
      return "plan_file";
    case store_errc::invalid_argument:
      return "invalid_argument";
    case store_errc::password:
      return "password";
  }
  return "unknown";
}

}  // namespace reelfarm
