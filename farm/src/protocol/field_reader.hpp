#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "reelfarm/common/result.hpp"
#include "reelfarm/farm/protocol/messages.hpp"

namespace reelfarm::farm::detail {

/// Reads typed, bounded fields out of one untrusted JSON object. The first
/// problem is kept (later reads become no-ops) so a decoder reads straight
/// through and checks `failed()` once.
class field_reader {
 public:
  explicit field_reader(const nlohmann::json& object) : object_(object) {}

  std::string text(const char* key, std::size_t max_size, bool required = true);
  std::uint64_t unsigned_number(const char* key, std::uint64_t max, bool required = true);
  std::int64_t integer(const char* key, std::int64_t min, std::int64_t max, bool required = true);
  bool boolean(const char* key, bool fallback, bool required = false);
  std::vector<std::string> text_list(const char* key, std::size_t max_items, std::size_t max_size);
  std::vector<held_lease> leases(const char* key);
  std::vector<gpu_info> gpus(const char* key);
  /// A JSON object, returned serialized; absent gives "{}".
  std::string object_text(const char* key, std::size_t max_size);
  /// Any JSON value, returned serialized; absent gives "null".
  std::string any_text(const char* key);

  /// Records a problem found by the caller's own check of a field.
  void reject(const char* key, const std::string& what) { fail(key, what); }

  bool failed() const noexcept { return problem_.has_value(); }
  const std::string& problem() const { return *problem_; }

 private:
  const nlohmann::json* find(const char* key, bool required);
  void fail(const char* key, const std::string& what);
  const nlohmann::json& object_;
  std::optional<std::string> problem_;
};

/// Decodes a parsed frame object (see decode_frame).
result<frame> decode_object(const nlohmann::json& j, std::string* type_hint);

}  // namespace reelfarm::farm::detail
