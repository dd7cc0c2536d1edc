#include "reelfarm/store/ledger_entry.hpp"

#include <array>

#include "reelfarm/store/errc.hpp"

namespace reelfarm {
namespace {

constexpr std::array<std::string_view, 6> kind_names = {"purchase", "deduction", "grant",
                                                        "refund",   "reset",     "reversal"};

}  // namespace

std::string_view to_string(credit_kind kind) noexcept {
  return kind_names[static_cast<std::size_t>(kind)];
}

result<credit_kind> parse_credit_kind(std::string_view text) {
  for (std::size_t i = 0; i < kind_names.size(); ++i) {
    if (kind_names[i] == text) {
      return static_cast<credit_kind>(i);
    }
  }
  return error(store_errc::invalid_argument, "'" + std::string(text) +
                                                 "' is not a credit transaction kind (purchase, "
                                                 "deduction, grant, refund, reset, reversal)");
}

std::string_view to_string(job_charge_state state) noexcept {
  switch (state) {
    case job_charge_state::not_charged:
      return "not_charged";
    case job_charge_state::charged:
      return "charged";
    case job_charge_state::refunded:
      return "refunded";
    case job_charge_state::cancelled_before_start:
      return "cancelled_before_start";
    case job_charge_state::cancelled_after_start:
      return "cancelled_after_start";
  }
  return "unknown";
}

}  // namespace reelfarm
