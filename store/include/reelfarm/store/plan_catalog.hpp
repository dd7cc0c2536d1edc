#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "reelfarm/common/result.hpp"
#include "reelfarm/store/plan.hpp"

namespace reelfarm {

/// The plans users can be on, from YAML (config/plans.yaml) or the defaults
/// of the product brief. Errors name the file, line and key at fault.
class plan_catalog {
 public:
  /// Free, Standard, Pro and Enterprise as in the product brief.
  static plan_catalog defaults();
  /// Reads and validates a plans file.
  static result<plan_catalog> load_file(const std::filesystem::path& file);
  /// Validates YAML text; `source` names it in errors.
  static result<plan_catalog> parse(const std::string& yaml, const std::string& source);

  /// The plan called `name`, or nullptr.
  const plan* find(const std::string& name) const noexcept;
  /// The plan called `name`, or a not_found error listing the known plans.
  result<plan> get(const std::string& name) const;
  /// The plan new users start on.
  const plan& default_plan() const noexcept;
  /// Every plan, in file order.
  const std::vector<plan>& plans() const noexcept { return plans_; }

 private:
  plan_catalog(std::vector<plan> plans, std::size_t default_index)
      : plans_(std::move(plans)), default_index_(default_index) {}
  std::vector<plan> plans_;
  std::size_t default_index_ = 0;
};

}  // namespace reelfarm
