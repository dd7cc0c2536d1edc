#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/billing/stripe_client.hpp"
#include "reelfarm/common/config.hpp"
#include "reelfarm/common/result.hpp"

namespace reelfarm::billing {

/// A one-time pack of credits sold through Checkout.
struct credit_pack {
  std::string name;  ///< what `POST /billing/checkout {credit_pack}` names
  std::int64_t credits = 0;
  std::int64_t price_cents = 0;
};

/// The default packs (billing.credit_packs): small 100 credits for $10,
/// medium 500 for $45, large 1000 for $80.
inline constexpr std::string_view default_credit_packs =
    "small:100:1000,medium:500:4500,large:1000:8000";

/// Parses "name:credits:price_cents,..." (names [a-z0-9_-]{1,32}, credits
/// 1..1000000, price 50..99999999 cents: Stripe's minimum charge is $0.50).
result<std::vector<credit_pack>> parse_credit_packs(std::string_view text);

/// Billing's settings (config section `billing`).
struct billing_options {
  stripe_client_options stripe;  ///< secret_key empty: billing is off
  std::string webhook_secret;    ///< whsec_...; empty: billing is off
  std::string currency = "usd";
  std::vector<credit_pack> credit_packs;
  /// The Stripe coupon for users who opted in to data sharing; Reelfarm
  /// creates it (10 % off, forever) when it does not exist.
  std::string data_sharing_coupon = "reelfarm-data-sharing-10";
  int data_sharing_percent_off = 10;
  /// Where Checkout and the portal send the browser back (the console).
  std::string return_url = "http://127.0.0.1:8080/console/#/billing";
  /// How long a subscription whose renewal failed keeps its plan.
  std::chrono::seconds grace_period{7 * 24 * 3600};

  /// Both keys are set.
  bool enabled() const noexcept { return !stripe.secret_key.empty() && !webhook_secret.empty(); }
  /// The pack named `name`, or null.
  const credit_pack* find_pack(std::string_view name) const noexcept;
};

/// The options of config section `billing`; fails on bad credit packs.
result<billing_options> options_from(const billing_settings& settings);

}  // namespace reelfarm::billing
