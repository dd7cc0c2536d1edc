#pragma once

#include <string>

#include <pqxx/connection>

namespace reelfarm::testing {

/// Writes the changes the farm makes, through the same tables and ledger
/// functions the product uses, each in its own transaction (so each fires
/// the outbox triggers like the real code paths do).
class farm_changes {
 public:
  explicit farm_changes(const std::string& dsn);

  /// A new user on `plan` (with the Free plan's 3 credits granted); returns its id.
  std::string add_user(const std::string& name, const std::string& plan = "free");
  /// A new project of `user`; returns its id.
  std::string add_project(const std::string& user, const std::string& title);
  /// Moves the project to `status` ('processing', 'complete', ...).
  void set_project_status(const std::string& project, const std::string& status);
  /// A grant of `amount` credits (a ledger row and a balance change).
  void grant(const std::string& user, int amount, const std::string& key);
  /// Charges a job and, when `refund`, refunds it.
  void charge(const std::string& user, const std::string& job, int amount, bool refund);
  /// A YouTube upload of `project`, created then moved to `status`.
  std::string add_upload(const std::string& user, const std::string& project,
                         const std::string& status);
  /// Changes a user's plan (a Contact update).
  void set_plan(const std::string& user, const std::string& plan);

  pqxx::connection& connection() { return conn_; }

 private:
  pqxx::connection conn_;
};

}  // namespace reelfarm::testing
