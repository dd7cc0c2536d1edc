#pragma once

// Reading Stripe's JSON objects: a field of the expected type, or nothing.
// Internal to billing.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace reelfarm::billing {

/// The string `key` of `object`, or "".
inline std::string text_of(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// The integer `key` of `object`, if it is one.
inline std::optional<std::int64_t> integer_of(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) {
    return std::nullopt;
  }
  return it->get<std::int64_t>();
}

/// The boolean `key` of `object`; false when absent or not a boolean.
inline bool flag_of(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace reelfarm::billing
