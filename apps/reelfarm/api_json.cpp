#include "api_json.hpp"

namespace reelfarm::app {
namespace {

[[noreturn]] void bad(const char* key, const char* expected) {
  throw malformed_answer(std::string("the server's answer has no ") + expected + " '" + key + "'");
}

}  // namespace

const nlohmann::json& member(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) {
    throw malformed_answer("the server's answer is not a JSON object");
  }
  auto it = j.find(key);
  if (it == j.end()) {
    bad(key, "field");
  }
  return *it;
}

std::string text_of(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key);
  if (!v.is_string()) {
    bad(key, "text field");
  }
  return v.get<std::string>();
}

std::string text_or(const nlohmann::json& j, const char* key, const std::string& fallback) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) {
    return fallback;
  }
  return text_of(j, key);
}

std::int64_t integer_of(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key);
  if (!v.is_number_integer()) {
    bad(key, "integer field");
  }
  return v.get<std::int64_t>();
}

std::int64_t integer_or(const nlohmann::json& j, const char* key, std::int64_t fallback) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) {
    return fallback;
  }
  return integer_of(j, key);
}

double number_of(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key);
  if (!v.is_number()) {
    bad(key, "number field");
  }
  return v.get<double>();
}

const nlohmann::json& array_of(const nlohmann::json& j, const char* key) {
  const auto& v = member(j, key);
  if (!v.is_array()) {
    bad(key, "list field");
  }
  return v;
}

}  // namespace reelfarm::app
