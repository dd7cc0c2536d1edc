#include "src/protocol/field_reader.hpp"

namespace reelfarm::farm::detail {

using nlohmann::json;

void field_reader::fail(const char* key, const std::string& what) {
  if (!problem_) {
    problem_ = std::string("field \"") + key + "\" " + what;
  }
}

const json* field_reader::find(const char* key, bool required) {
  if (problem_) {
    return nullptr;
  }
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) {
    if (required) {
      fail(key, "is missing");
    }
    return nullptr;
  }
  return &*it;
}

std::string field_reader::text(const char* key, std::size_t max_size, bool required) {
  const json* v = find(key, required);
  if (v == nullptr) {
    return {};
  }
  if (!v->is_string()) {
    fail(key, "must be a string");
    return {};
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.size() > max_size) {
    fail(key, "is longer than " + std::to_string(max_size) + " bytes");
    return {};
  }
  return s;
}

std::uint64_t field_reader::unsigned_number(const char* key, std::uint64_t max, bool required) {
  const json* v = find(key, required);
  if (v == nullptr) {
    return 0;
  }
  if (!v->is_number_unsigned()) {
    fail(key, "must be a non-negative integer");
    return 0;
  }
  auto n = v->get<std::uint64_t>();
  if (n > max) {
    fail(key, "exceeds " + std::to_string(max));
    return 0;
  }
  return n;
}

std::int64_t field_reader::integer(const char* key, std::int64_t min, std::int64_t max,
                                   bool required) {
  const json* v = find(key, required);
  if (v == nullptr) {
    return min < 0 && max > 0 ? 0 : min;
  }
  if (!v->is_number_integer()) {
    fail(key, "must be an integer");
    return min;
  }
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    fail(key, "exceeds " + std::to_string(max));
    return min;
  }
  auto n = v->get<std::int64_t>();
  if (n < min || n > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return min;
  }
  return n;
}

bool field_reader::boolean(const char* key, bool fallback, bool required) {
  const json* v = find(key, required);
  if (v == nullptr) {
    return fallback;
  }
  if (!v->is_boolean()) {
    fail(key, "must be true or false");
    return fallback;
  }
  return v->get<bool>();
}

std::vector<std::string> field_reader::text_list(const char* key, std::size_t max_items,
                                                 std::size_t max_size) {
  std::vector<std::string> out;
  const json* v = find(key, false);
  if (v == nullptr) {
    return out;
  }
  if (!v->is_array() || v->size() > max_items) {
    fail(key, "must be an array of at most " + std::to_string(max_items) + " strings");
    return out;
  }
  for (const auto& item : *v) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty() ||
        item.get_ref<const std::string&>().size() > max_size) {
      fail(key, "must hold non-empty strings of at most " + std::to_string(max_size) + " bytes");
      return {};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<held_lease> field_reader::leases(const char* key) {
  std::vector<held_lease> out;
  const json* v = find(key, false);
  if (v == nullptr) {
    return out;
  }
  if (!v->is_array() || v->size() > 1024) {
    fail(key, "must be an array of at most 1024 leases");
    return out;
  }
  for (const auto& item : *v) {
    if (!item.is_object()) {
      fail(key, "must hold {\"lease\", \"shot\"} objects");
      return {};
    }
    field_reader inner(item);
    held_lease l;
    l.lease = inner.unsigned_number("lease", UINT64_MAX);
    l.shot = inner.text("shot", 128);
    if (inner.failed() || l.lease == 0) {
      fail(key, "holds an invalid lease: " + (inner.failed() ? inner.problem() : "lease 0"));
      return {};
    }
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<gpu_info> field_reader::gpus(const char* key) {
  std::vector<gpu_info> out;
  const json* v = find(key, false);
  if (v == nullptr) {
    return out;
  }
  if (!v->is_array() || v->size() > 64) {
    fail(key, "must be an array of at most 64 GPUs");
    return out;
  }
  for (const auto& item : *v) {
    if (!item.is_object()) {
      fail(key, "must hold GPU objects");
      return {};
    }
    field_reader inner(item);
    gpu_info g;
    g.index = static_cast<int>(inner.integer("index", 0, 1023));
    g.memory_mb = inner.unsigned_number("memory_mb", 16ULL * 1024 * 1024);
    g.utilization = static_cast<int>(inner.integer("utilization", 0, 100, false));
    if (inner.failed()) {
      fail(key, "holds an invalid GPU: " + inner.problem());
      return {};
    }
    out.push_back(g);
  }
  return out;
}

std::string field_reader::object_text(const char* key, std::size_t max_size) {
  const json* v = find(key, false);
  if (v == nullptr) {
    return "{}";
  }
  if (!v->is_object()) {
    fail(key, "must be a JSON object");
    return "{}";
  }
  auto text = v->dump();
  if (text.size() > max_size) {
    fail(key, "is larger than " + std::to_string(max_size) + " bytes");
    return "{}";
  }
  return text;
}

std::string field_reader::any_text(const char* key) {
  const json* v = find(key, false);
  return v == nullptr ? "null" : v->dump();
}

}  // namespace reelfarm::farm::detail
