#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "reelfarm/common/result.hpp"

namespace reelfarm::billing {

/// How far a webhook's signed timestamp may lie from now (Stripe's libraries
/// default to 300 s): bounds how long a captured delivery can be replayed.
inline constexpr std::chrono::seconds default_signature_tolerance{300};

/// Checks `header` (the Stripe-Signature value) against `payload` (the raw
/// request body, byte for byte) and the endpoint's signing secret
/// (`whsec_...`, used as the HMAC key as it is). Errors (bad_signature) say
/// what is wrong without echoing any signature.
result<void> verify_stripe_signature(std::string_view header, std::string_view payload,
                                     std::string_view secret,
                                     std::chrono::system_clock::time_point now,
                                     std::chrono::seconds tolerance = default_signature_tolerance);

/// The header Stripe would send for `payload` signed at `timestamp`
/// (`t=...,v1=...`): for tests and the local Stripe stand-in.
std::string stripe_signature_header(std::string_view payload, std::string_view secret,
                                    std::int64_t timestamp);

}  // namespace reelfarm::billing
