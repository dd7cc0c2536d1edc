#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

#include "reelfarm/common/result.hpp"

/// Structured logging: one line per event with time, level, component, message
/// and key=value fields (or one JSON object per line). Secrets never reach a
/// line: wrap them in `log::secret` and they print as "[redacted]".
namespace reelfarm::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };
enum class format { kv, json };

/// A value that must never be written out (passwords, tokens, keys).
struct secret {
  std::string_view value;
};

/// One key=value pair of a log event.
class field {
 public:
  field(std::string_view key, std::string_view value) : key_(key), value_(value) {}
  field(std::string_view key, const std::string& value) : key_(key), value_(value) {}
  field(std::string_view key, const char* value) : key_(key), value_(value ? value : "") {}
  field(std::string_view key, secret) : key_(key), value_("[redacted]") {}
  field(std::string_view key, bool value) : key_(key), value_(value ? "true" : "false") {}
  template <class Number>
  requires std::is_arithmetic_v<Number> field(std::string_view key, Number value)
      : key_(key), value_(std::to_string(value)) {}

  std::string_view key() const noexcept { return key_; }
  const std::string& value() const noexcept { return value_; }

 private:
  std::string_view key_;
  std::string value_;
};

/// Where finished lines go; the default writes to standard error.
using sink = std::function<void(std::string_view line)>;

/// Sets the minimum level and the line format for the whole process.
void configure(level minimum, format fmt);
/// Replaces the sink (tests capture lines with it); an empty sink restores stderr.
void set_sink(sink s);
/// True when events at `lvl` are written.
bool enabled(level lvl) noexcept;

/// Parses "debug", "info", "warn" or "error".
result<level> parse_level(std::string_view text);
/// Parses "kv" or "json".
result<format> parse_format(std::string_view text);

/// Writes one event.
void write(level lvl, std::string_view component, std::string_view message,
           std::initializer_list<field> fields = {});

inline void debug(std::string_view component, std::string_view message,
                  std::initializer_list<field> fields = {}) {
  if (enabled(level::debug)) {
    write(level::debug, component, message, fields);
  }
}
inline void info(std::string_view component, std::string_view message,
                 std::initializer_list<field> fields = {}) {
  write(level::info, component, message, fields);
}
inline void warn(std::string_view component, std::string_view message,
                 std::initializer_list<field> fields = {}) {
  write(level::warn, component, message, fields);
}
inline void error(std::string_view component, std::string_view message,
                  std::initializer_list<field> fields = {}) {
  write(level::error, component, message, fields);
}

/// A PostgreSQL DSN or Redis URL with its password replaced by "[redacted]",
/// for logs and status output. Handles URI (`postgresql://u:p@h/db`,
/// `redis://:p@h:1`) and key/value (`host=h password=p`) forms.
std::string redact_dsn(std::string_view dsn);

}  // namespace reelfarm::log
