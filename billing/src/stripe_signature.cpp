#include "reelfarm/billing/stripe_signature.hpp"

#include <sodium.h>

#include <array>
#include <charconv>
#include <vector>

#include "reelfarm/billing/errc.hpp"

namespace reelfarm::billing {
namespace {

using digest = std::array<unsigned char, crypto_auth_hmacsha256_BYTES>;

digest hmac(std::string_view secret, std::string_view timestamp, std::string_view payload) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(timestamp.data()),
                                timestamp.size());
  const unsigned char dot = '.';
  crypto_auth_hmacsha256_update(&state, &dot, 1);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(payload.data()),
                                payload.size());
  digest out{};
  crypto_auth_hmacsha256_final(&state, out.data());
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

error bad(const std::string& why) {
  return error(billing_errc::bad_signature, "Stripe-Signature: " + why);
}

}  // namespace

result<void> verify_stripe_signature(std::string_view header, std::string_view payload,
                                     std::string_view secret,
                                     std::chrono::system_clock::time_point now,
                                     std::chrono::seconds tolerance) {
  if (secret.empty()) {
    return error(billing_errc::disabled, "no webhook signing secret is configured");
  }
  if (header.empty() || header.size() > 4096) {
    return bad("missing or longer than 4096 bytes");
  }
  std::string_view timestamp;
  std::vector<std::string_view> candidates;
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      continue;
    }
    auto key = item.substr(0, eq);
    auto value = item.substr(eq + 1);
    if (key == "t") {
      timestamp = value;
    } else if (key == "v1" && candidates.size() < 16) {
      candidates.push_back(value);
    }
  }
  // Unix seconds, at most 12 digits: no sign, and no value that would
  // overflow the clock's nanoseconds below.
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), seconds);
  if (timestamp.empty() || timestamp.size() > 12 || timestamp.front() == '-' || ec != std::errc() ||
      end != timestamp.data() + timestamp.size()) {
    return bad("no valid timestamp (t=)");
  }
  if (candidates.empty()) {
    return bad("no v1 signature");
  }
  auto signed_at = std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
  auto age = std::chrono::duration_cast<std::chrono::seconds>(now - signed_at);
  if (age > tolerance || age < -tolerance) {
    return bad("the timestamp is " + std::to_string(age.count()) +
               " s from now, outside the tolerance of " + std::to_string(tolerance.count()) +
               " s (a replayed or delayed delivery)");
  }
  auto expected = hmac(secret, timestamp, payload);
  for (auto candidate : candidates) {
    digest given{};
    std::size_t decoded = 0;
    if (candidate.size() != given.size() * 2 ||
        sodium_hex2bin(given.data(), given.size(), candidate.data(), candidate.size(), nullptr,
                       &decoded, nullptr) != 0 ||
        decoded != given.size()) {
      continue;
    }
    if (sodium_memcmp(given.data(), expected.data(), given.size()) == 0) {
      return ok();
    }
  }
  return bad("no v1 signature matches the body and the signing secret");
}

std::string stripe_signature_header(std::string_view payload, std::string_view secret,
                                    std::int64_t timestamp) {
  auto t = std::to_string(timestamp);
  auto mac = hmac(secret, t, payload);
  std::string hex(mac.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
  hex.pop_back();
  return "t=" + t + ",v1=" + hex;
}

}  // namespace reelfarm::billing
