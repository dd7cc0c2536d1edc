#include "reelfarm/billing/billing_options.hpp"

#include <charconv>

#include "reelfarm/billing/errc.hpp"

namespace reelfarm::billing {
namespace {

bool pack_name(std::string_view name) {
  if (name.empty() || name.size() > 32) {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

bool whole(std::string_view text, std::int64_t min, std::int64_t max, std::int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= min && out <= max;
}

}  // namespace

result<std::vector<credit_pack>> parse_credit_packs(std::string_view text) {
  std::vector<credit_pack> packs;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    auto first = item.find(':');
    auto second = first == std::string_view::npos ? first : item.find(':', first + 1);
    credit_pack p;
    if (second == std::string_view::npos || !pack_name(item.substr(0, first)) ||
        !whole(item.substr(first + 1, second - first - 1), 1, 1'000'000, p.credits) ||
        !whole(item.substr(second + 1), 50, 99'999'999, p.price_cents)) {
      return error(billing_errc::invalid_request,
                   "billing.credit_packs: '" + std::string(item) +
                       "' is not name:credits:price_cents (name [a-z0-9_-]{1,32}, credits "
                       "1..1000000, price 50..99999999 cents)");
    }
    p.name = std::string(item.substr(0, first));
    for (const auto& other : packs) {
      if (other.name == p.name) {
        return error(billing_errc::invalid_request,
                     "billing.credit_packs names '" + p.name + "' twice");
      }
    }
    packs.push_back(std::move(p));
  }
  return packs;
}

result<billing_options> options_from(const billing_settings& settings) {
  billing_options o;
  o.stripe.secret_key = settings.stripe_secret_key;
  o.stripe.api_base = settings.stripe_api_base;
  o.webhook_secret = settings.stripe_webhook_secret;
  o.currency = settings.currency;
  o.data_sharing_coupon = settings.data_sharing_coupon;
  o.return_url = settings.return_url;
  o.grace_period = std::chrono::duration_cast<std::chrono::seconds>(settings.grace_period);
  auto packs = parse_credit_packs(settings.credit_packs);
  if (!packs) {
    return packs.error();
  }
  o.credit_packs = std::move(*packs);
  return o;
}

const credit_pack* billing_options::find_pack(std::string_view name) const noexcept {
  for (const auto& p : credit_packs) {
    if (p.name == name) {
      return &p;
    }
  }
  return nullptr;
}

}  // namespace reelfarm::billing
