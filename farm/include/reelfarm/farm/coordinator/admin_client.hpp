#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include <pqxx/connection>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/protocol/farm_credentials.hpp"
#include "reelfarm/farm/protocol/messages.hpp"

namespace reelfarm::farm {

/// Sends one admin frame (list, drain, undrain, remove, token, revoke) to a
/// coordinator over CURVE with operator credentials and waits for its
/// answer; `reelfarm ctl nodes ...` and the gateway's node routes use it.
result<admin_reply_msg> admin_request(const std::string& endpoint,
                                      const farm_credentials& credentials, const admin_msg& request,
                                      std::chrono::milliseconds timeout);

/// The farm's operator credentials as the coordinator keeps them in
/// PostgreSQL (for a gateway's node routes; needs the farm's database).
result<farm_credentials> load_operator_credentials(pqxx::connection& conn);

/// Where a coordinator using DATA_DIR also writes its operator credentials,
/// for `reelfarm ctl nodes` on that machine.
std::filesystem::path operator_key_path(const std::filesystem::path& data_dir);

}  // namespace reelfarm::farm
