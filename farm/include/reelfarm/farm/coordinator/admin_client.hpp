#pragma once

#include <chrono>
#include <string>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/protocol/messages.hpp"

namespace reelfarm::farm {

/// Sends one admin frame (list, drain, undrain, remove) to a coordinator and
/// waits for its answer; `reelfarm ctl nodes ...` is built on it.
result<admin_reply_msg> admin_request(const std::string& endpoint, const admin_msg& request,
                                      std::chrono::milliseconds timeout);

}  // namespace reelfarm::farm
