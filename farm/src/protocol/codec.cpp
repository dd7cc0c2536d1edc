#include "reelfarm/farm/protocol/codec.hpp"

#include <nlohmann/json.hpp>

#include "reelfarm/common/json_depth.hpp"
#include "reelfarm/farm/errc.hpp"
#include "src/protocol/field_reader.hpp"

namespace reelfarm::farm {
namespace {

using nlohmann::json;

json leases_json(const std::vector<held_lease>& leases) {
  json out = json::array();
  for (const auto& l : leases) {
    out.push_back({{"lease", l.lease}, {"shot", l.shot}});
  }
  return out;
}

void put(json& j, const register_msg& m) {
  json gpus = json::array();
  for (const auto& g : m.gpus) {
    gpus.push_back(
        {{"index", g.index}, {"memory_mb", g.memory_mb}, {"utilization", g.utilization}});
  }
  j["hostname"] = m.hostname;
  j["gpus"] = gpus;
  j["slots"] = m.slots;
  j["backends"] = m.backends;
  j["tags"] = m.tags;
  j["references"] = m.references;
  j["leases"] = leases_json(m.leases);
  j["agent"] = m.agent;
}
void put(json& j, const registered_msg& m) {
  j["heartbeat_ms"] = m.heartbeat_ms;
  j["ttl_ms"] = m.ttl_ms;
}
void put(json& j, const refused_msg& m) {
  j["reason"] = m.reason;
  j["supported_version"] = m.supported_version;
}
void put(json& j, const heartbeat_msg& m) {
  j["seq"] = m.seq;
  j["free_slots"] = m.free_slots;
  j["leases"] = leases_json(m.leases);
}
void put(json& j, const lease_offer_msg& m) {
  j["lease"] = m.lease;
  j["shot"] = m.shot;
  j["job"] = m.job;
  j["backend"] = m.backend;
  j["gpu_memory_mb"] = m.gpu_memory_mb;
  j["ttl_ms"] = m.ttl_ms;
  // The spec was validated as a JSON object when it entered the farm.
  j["spec"] = m.spec.empty() ? json::object() : json::parse(m.spec, nullptr, false);
  if (j["spec"].is_discarded()) {
    j["spec"] = json::object();
  }
}
void put(json& j, const lease_accept_msg& m) {
  j["lease"] = m.lease;
  j["shot"] = m.shot;
}
void put(json& j, const lease_reject_msg& m) {
  j["lease"] = m.lease;
  j["shot"] = m.shot;
  j["reason"] = m.reason;
}
void put(json& j, const progress_msg& m) {
  j["lease"] = m.lease;
  j["shot"] = m.shot;
  j["percent"] = m.percent;
  j["step"] = m.step;
}
void put(json& j, const done_msg& m) {
  j["lease"] = m.lease;
  j["shot"] = m.shot;
  j["artifact"] = m.artifact;
  j["checksum"] = m.checksum;
  j["duration_ms"] = m.duration_ms;
}
void put(json& j, const failed_msg& m) {
  j["lease"] = m.lease;
  j["shot"] = m.shot;
  j["reason"] = m.reason;
  j["retryable"] = m.retryable;
}
void put(json& j, const cancel_msg& m) {
  j["lease"] = m.lease;
  j["shot"] = m.shot;
}
void put(json& j, const cancel_confirmed_msg& m) {
  j["lease"] = m.lease;
  j["shot"] = m.shot;
}
void put(json& j, const drain_msg& m) {
  j["drain"] = m.drain;
  j["reason"] = m.reason;
}
void put(json& j, const error_msg& m) {
  j["code"] = m.code;
  j["message"] = m.message;
  j["about"] = m.about;
  j["lease"] = m.lease;
}
void put(json& j, const enroll_msg& m) {
  j["public_key"] = m.public_key;
}
void put(json&, const enrolled_msg&) {}
void put(json& j, const admin_msg& m) {
  j["command"] = m.command;
  j["target"] = m.target;
}
void put(json& j, const admin_reply_msg& m) {
  j["ok"] = m.ok;
  j["message"] = m.message;
  j["body"] = json::parse(m.body, nullptr, false);
  if (j["body"].is_discarded()) {
    j["body"] = nullptr;
  }
}

}  // namespace

const char* type_name(const message& body) noexcept {
  static constexpr const char* names[] = {
      "register",     "registered", "refused", "heartbeat",   "lease_offer", "lease_accept",
      "lease_reject", "progress",   "done",    "failed",      "cancel",      "cancel_confirmed",
      "drain",        "error",      "admin",   "admin_reply", "enroll",      "enrolled"};
  static_assert(std::size(names) == std::variant_size_v<message>);
  return names[body.index()];
}

bool valid_node_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) {
    return false;
  }
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

std::string encode_frame(const frame& f) {
  json j = {{"v", protocol_version}, {"type", type_name(f.body)}, {"node", f.node}};
  std::visit([&](const auto& m) { put(j, m); }, f.body);
  return j.dump();
}

result<frame> decode_frame(std::string_view bytes, std::string* type_hint, std::size_t max_bytes) {
  if (bytes.size() > max_bytes) {
    return error(farm_errc::frame_too_large, "frame of " + std::to_string(bytes.size()) +
                                                 " bytes exceeds the limit of " +
                                                 std::to_string(max_bytes));
  }
  if (!json_nesting_within(bytes, max_json_depth)) {
    return error(farm_errc::malformed_frame,
                 "frame nests JSON deeper than " + std::to_string(max_json_depth) + " levels");
  }
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return error(farm_errc::malformed_frame, "frame is not a JSON object");
  }
  return detail::decode_object(j, type_hint);
}

}  // namespace reelfarm::farm
