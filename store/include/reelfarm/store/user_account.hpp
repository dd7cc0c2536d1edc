#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace reelfarm {

/// A user as stored (the password hash is never part of it).
struct user_account {
  std::string id;  ///< uuid
  std::string email;
  std::string full_name;
  std::string role;  ///< "creator" or "admin"
  std::string plan;  ///< a plan_catalog name
  std::int64_t credits_balance = 0;
  bool credits_unlimited = false;
  std::optional<std::chrono::sys_days> credits_reset_date;  ///< the next renewal
  std::chrono::system_clock::time_point created_at;
  std::chrono::system_clock::time_point updated_at;
  std::optional<std::chrono::system_clock::time_point> last_login_at;
  /// The data-sharing opt-in and when it was given (the membership discount).
  bool data_sharing_opt_in = false;
  std::optional<std::chrono::system_clock::time_point> data_sharing_opt_in_at;
};

/// What it takes to sign up.
struct new_user {
  std::string email;
  std::string password;  ///< plain text: hashed at once, never stored or logged
  std::string full_name;
  std::string role = "creator";
};

}  // namespace reelfarm
