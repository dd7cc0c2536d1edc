#include "reelfarm/gateway/json_input.hpp"

#include <string>

#include "reelfarm/common/json_depth.hpp"

namespace reelfarm::gateway {

bool json_too_deep(std::string_view text, int limit) {
  return !json_nesting_within(text, limit);
}

bool json_has_nul(const nlohmann::json& value) {
  if (value.is_string()) {
    return value.get_ref<const std::string&>().find('\0') != std::string::npos;
  }
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      if (key.find('\0') != std::string::npos || json_has_nul(item)) {
        return true;
      }
    }
  }
  if (value.is_array()) {
    for (const auto& item : value) {
      if (json_has_nul(item)) {
        return true;
      }
    }
  }
  return false;
}

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

std::string_view kind_name(json_kind kind) {
  switch (kind) {
    case json_kind::string:
      return "a string";
    case json_kind::integer:
      return "an integer";
    case json_kind::boolean:
      return "a boolean";
    case json_kind::object:
      return "an object";
    case json_kind::array:
      return "an array";
  }
  return "a value";
}

bool has_kind(const nlohmann::json& v, json_kind kind) {
  switch (kind) {
    case json_kind::string:
      return v.is_string();
    case json_kind::integer:
      return v.is_number_integer();
    case json_kind::boolean:
      return v.is_boolean();
    case json_kind::object:
      return v.is_object();
    case json_kind::array:
      return v.is_array();
  }
  return false;
}

const field_spec* find_spec(std::span<const field_spec> fields, const std::string& name) {
  for (const auto& f : fields) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

bool is_json_content_type(std::string_view type) {
  auto semi = type.find(';');
  auto media = type.substr(0, semi);
  while (!media.empty() && media.back() == ' ') {
    media.remove_suffix(1);
  }
  std::string lower(media);
  for (auto& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return lower == "application/json";
}

// The first problem of one field, or "".
std::string check_field(const field_spec& spec, const nlohmann::json& value) {
  auto name = std::string(spec.name);
  if (!has_kind(value, spec.kind)) {
    return "field '" + name + "' must be " + std::string(kind_name(spec.kind)) + ", not " +
           value.type_name();
  }
  if (json_has_nul(value)) {
    return "field '" + name + "' must not contain NUL characters";
  }
  if (spec.kind == json_kind::string && spec.max_length > 0 &&
      value.get_ref<const std::string&>().size() > spec.max_length) {
    return "field '" + name + "' is longer than " + std::to_string(spec.max_length) + " bytes";
  }
  return {};
}

}  // namespace

std::variant<nlohmann::json, http_response> parse_json_body(const http_request& request,
                                                            std::span<const field_spec> fields) {
  auto type = request.header("content-type");
  if (!type || !is_json_content_type(*type)) {
    return error_response(415, "unsupported_media_type",
                          "the body must be JSON, sent with Content-Type: application/json");
  }
  if (json_too_deep(request.body)) {
    return error_response(
        400, "malformed_json",
        "the JSON body nests deeper than " + std::to_string(max_json_depth) + " levels");
  }
  auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded()) {
    return error_response(400, "malformed_json", "the body is not valid JSON (RFC 8259, UTF-8)");
  }
  if (!body.is_object()) {
    return error_response(422, "validation_failed",
                          std::string("the body must be a JSON object, not ") + body.type_name());
  }
  for (const auto& [key, value] : body.items()) {
    const auto* spec = find_spec(fields, key);
    if (spec == nullptr) {
      return error_response(422, "unknown_field", "unknown field '" + key + "'");
    }
    if (auto problem = check_field(*spec, value); !problem.empty()) {
      return error_response(422, "validation_failed", problem);
    }
  }
  for (const auto& spec : fields) {
    if (spec.required && !body.contains(std::string(spec.name))) {
      return error_response(422, "validation_failed",
                            "missing required field '" + std::string(spec.name) + "'");
    }
  }
  return body;
}

}  // namespace reelfarm::gateway
