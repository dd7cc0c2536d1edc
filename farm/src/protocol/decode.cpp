// Per-type decoding of frames: each reader takes the fields of one message
// type with its bounds. The limits are documented in docs/protocol.md.
#include <algorithm>
#include <functional>
#include <map>

#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/protocol/codec.hpp"
#include "reelfarm/farm/protocol/farm_credentials.hpp"
#include "src/protocol/field_reader.hpp"

namespace reelfarm::farm::detail {
namespace {

using nlohmann::json;

constexpr std::size_t shot_max = 128;
constexpr std::size_t reason_max = 1024;
constexpr std::uint64_t lease_max = UINT64_MAX;

message read_register(field_reader& r) {
  register_msg m;
  m.hostname = r.text("hostname", 255);
  m.gpus = r.gpus("gpus");
  m.slots = static_cast<int>(r.integer("slots", 1, 256));
  m.backends = r.text_list("backends", 16, 64);
  m.tags = r.text_list("tags", 32, 64);
  m.references = r.text_list("references", 1024, 128);
  m.leases = r.leases("leases");
  m.agent = r.text("agent", 64, false);
  return m;
}
message read_registered(field_reader& r) {
  registered_msg m;
  m.heartbeat_ms = r.integer("heartbeat_ms", 10, 600000);
  m.ttl_ms = r.integer("ttl_ms", 10, 3600000);
  return m;
}
message read_refused(field_reader& r) {
  refused_msg m;
  m.reason = r.text("reason", reason_max);
  m.supported_version = static_cast<int>(r.integer("supported_version", 0, 1000000, false));
  return m;
}
message read_heartbeat(field_reader& r) {
  heartbeat_msg m;
  m.seq = r.unsigned_number("seq", lease_max);
  m.free_slots = static_cast<int>(r.integer("free_slots", 0, 256, false));
  m.leases = r.leases("leases");
  return m;
}
message read_offer(field_reader& r) {
  lease_offer_msg m;
  m.lease = r.unsigned_number("lease", lease_max);
  m.shot = r.text("shot", shot_max);
  m.job = r.text("job", shot_max);
  m.backend = r.text("backend", 64);
  m.gpu_memory_mb = r.unsigned_number("gpu_memory_mb", 16ULL * 1024 * 1024, false);
  m.ttl_ms = r.integer("ttl_ms", 10, 3600000);
  m.spec = r.object_text("spec", 48 * 1024);
  return m;
}
message read_accept(field_reader& r) {
  lease_accept_msg m;
  m.lease = r.unsigned_number("lease", lease_max);
  m.shot = r.text("shot", shot_max);
  return m;
}
message read_reject(field_reader& r) {
  lease_reject_msg m;
  m.lease = r.unsigned_number("lease", lease_max);
  m.shot = r.text("shot", shot_max);
  m.reason = r.text("reason", reason_max, false);
  return m;
}
message read_progress(field_reader& r) {
  progress_msg m;
  m.lease = r.unsigned_number("lease", lease_max);
  m.shot = r.text("shot", shot_max);
  m.percent = static_cast<int>(r.integer("percent", 0, 100));
  m.step = r.text("step", 128, false);
  return m;
}
// "sha256:" and 64 lowercase hex digits.
bool valid_checksum(const std::string& c) {
  if (c.size() != 71 || !c.starts_with("sha256:")) {
    return false;
  }
  return std::all_of(c.begin() + 7, c.end(),
                     [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'); });
}

message read_done(field_reader& r) {
  done_msg m;
  m.lease = r.unsigned_number("lease", lease_max);
  m.shot = r.text("shot", shot_max);
  m.artifact = r.text("artifact", 4096);
  m.checksum = r.text("checksum", 128);
  m.duration_ms = r.integer("duration_ms", 0, 7LL * 24 * 3600 * 1000);
  if (!r.failed() && !valid_checksum(m.checksum)) {
    r.reject("checksum", "must be \"sha256:\" followed by 64 lowercase hex digits");
  }
  if (!r.failed() && m.artifact.empty()) {
    r.reject("artifact", "must not be empty");
  }
  return m;
}
message read_failed(field_reader& r) {
  failed_msg m;
  m.lease = r.unsigned_number("lease", lease_max);
  m.shot = r.text("shot", shot_max);
  m.reason = r.text("reason", reason_max);
  m.retryable = r.boolean("retryable", true, true);
  return m;
}
message read_cancel(field_reader& r) {
  cancel_msg m;
  m.lease = r.unsigned_number("lease", lease_max);
  m.shot = r.text("shot", shot_max);
  return m;
}
message read_cancel_confirmed(field_reader& r) {
  cancel_confirmed_msg m;
  m.lease = r.unsigned_number("lease", lease_max);
  m.shot = r.text("shot", shot_max);
  return m;
}
message read_drain(field_reader& r) {
  drain_msg m;
  m.drain = r.boolean("drain", true, true);
  m.reason = r.text("reason", reason_max, false);
  return m;
}
message read_error(field_reader& r) {
  error_msg m;
  m.code = r.text("code", 64);
  m.message = r.text("message", reason_max);
  m.about = r.text("about", 64, false);
  m.lease = r.unsigned_number("lease", lease_max, false);
  return m;
}
message read_enroll(field_reader& r) {
  enroll_msg m;
  m.public_key = r.text("public_key", 40);
  if (!r.failed() && !valid_curve_key(m.public_key)) {
    r.reject("public_key", "must be a CURVE public key: 40 characters of Z85");
  }
  return m;
}
message read_enrolled(field_reader&) {
  return enrolled_msg{};
}
message read_admin(field_reader& r) {
  admin_msg m;
  m.command = r.text("command", 32);
  m.target = r.text("target", 64, false);
  return m;
}
message read_admin_reply(field_reader& r) {
  admin_reply_msg m;
  m.ok = r.boolean("ok", false, true);
  m.message = r.text("message", reason_max, false);
  m.body = r.any_text("body");
  return m;
}

using reader_fn = message (*)(field_reader&);

const std::map<std::string, reader_fn, std::less<>>& readers() {
  static const std::map<std::string, reader_fn, std::less<>> table = {
      {"register", read_register},   {"registered", read_registered},
      {"refused", read_refused},     {"heartbeat", read_heartbeat},
      {"lease_offer", read_offer},   {"lease_accept", read_accept},
      {"lease_reject", read_reject}, {"progress", read_progress},
      {"done", read_done},           {"failed", read_failed},
      {"cancel", read_cancel},       {"cancel_confirmed", read_cancel_confirmed},
      {"drain", read_drain},         {"error", read_error},
      {"enroll", read_enroll},       {"enrolled", read_enrolled},
      {"admin", read_admin},         {"admin_reply", read_admin_reply},
  };
  return table;
}

// Fields that name a lease must name a real one: epoch 0 is never granted.
bool lease_is_zero(const message& body) {
  return std::visit(
      [](const auto& m) {
        if constexpr (requires {
                        m.shot;
                        m.lease;
                      }) {
          return m.lease == 0;
        } else {
          return false;
        }
      },
      body);
}

}  // namespace

result<frame> decode_object(const json& j, std::string* type_hint) {
  field_reader envelope(j);
  auto type = envelope.text("type", 32);
  if (envelope.failed()) {
    return error(farm_errc::malformed_frame, "frame envelope: " + envelope.problem());
  }
  if (type_hint != nullptr) {
    *type_hint = type;
  }
  auto version = envelope.integer("v", 0, INT32_MAX);
  if (envelope.failed()) {
    return error(farm_errc::malformed_frame, "frame envelope: " + envelope.problem());
  }
  if (version != protocol_version) {
    return error(farm_errc::unsupported_version,
                 "protocol version " + std::to_string(version) +
                     " is not supported; this coordinator speaks version " +
                     std::to_string(protocol_version));
  }
  auto node = envelope.text("node", 64, false);
  if (!node.empty() && !valid_node_id(node)) {
    return error(farm_errc::invalid_field,
                 "field \"node\" must be 1-64 characters of [A-Za-z0-9._-]");
  }
  auto it = readers().find(type);
  if (it == readers().end()) {
    return error(farm_errc::unknown_type, "unknown frame type \"" + type.substr(0, 32) + "\"");
  }
  field_reader fields(j);
  frame f{node, it->second(fields)};
  if (fields.failed()) {
    return error(farm_errc::invalid_field, type + ": " + fields.problem());
  }
  if (lease_is_zero(f.body)) {
    return error(farm_errc::invalid_field, type + ": field \"lease\" must be at least 1");
  }
  return f;
}

}  // namespace reelfarm::farm::detail
