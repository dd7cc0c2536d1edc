#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "reelfarm/gateway/http_message.hpp"

namespace reelfarm::gateway {

/// The JSON type a body field must have.
enum class json_kind { string, integer, boolean, object, array };

/// One field a JSON body may carry.
struct field_spec {
  std::string_view name;
  json_kind kind;
  bool required = false;
  std::size_t max_length = 0;  ///< strings: longest accepted (bytes); 0 = no limit
};

/// The deepest nesting a body may have; deeper documents are refused before
/// parsing so no recursion can exhaust the stack.
inline constexpr int max_json_depth = 32;

/// Parses a request body as a JSON object and checks it against `fields`:
/// 415 for a non-JSON content type, 400 for malformed JSON, 422 for a
/// non-object, an unknown field, a missing field, a wrong type, a string
/// with NUL or over its length. Returns the object or the response to send.
std::variant<nlohmann::json, http_response> parse_json_body(const http_request& request,
                                                            std::span<const field_spec> fields);

/// True when `text` nests arrays/objects deeper than `limit` (strings skipped).
bool json_too_deep(std::string_view text, int limit = max_json_depth);

/// True when any string (or key) inside `value` contains a NUL character,
/// which PostgreSQL text and jsonb cannot hold.
bool json_has_nul(const nlohmann::json& value);

/// Serialises for a response; invalid UTF-8 is replaced, never thrown on.
std::string dump_json(const nlohmann::json& value);

}  // namespace reelfarm::gateway
