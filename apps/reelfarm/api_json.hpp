#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

/// Checked reads of the server's JSON answers for `reelfarm ctl`: a missing
/// field or one of the wrong type throws malformed_answer, which the ctl
/// dispatcher prints as a clear error (never a crash).
namespace reelfarm::app {

struct malformed_answer : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The object member `key`; throws when `j` is not an object or lacks it.
const nlohmann::json& member(const nlohmann::json& j, const char* key);
std::string text_of(const nlohmann::json& j, const char* key);
/// A string, or `fallback` when the member is missing or null.
std::string text_or(const nlohmann::json& j, const char* key, const std::string& fallback = "");
std::int64_t integer_of(const nlohmann::json& j, const char* key);
std::int64_t integer_or(const nlohmann::json& j, const char* key, std::int64_t fallback);
double number_of(const nlohmann::json& j, const char* key);
/// An array member; throws when missing or not an array.
const nlohmann::json& array_of(const nlohmann::json& j, const char* key);

}  // namespace reelfarm::app
