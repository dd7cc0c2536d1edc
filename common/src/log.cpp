#include "reelfarm/common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "reelfarm/common/errc.hpp"

namespace reelfarm::log {
namespace {

struct state {
  std::atomic<int> minimum{static_cast<int>(level::info)};
  std::atomic<format> fmt{format::kv};
  std::mutex mutex;  // guards `out`, and serialises writes so lines never interleave
  sink out;
};

state& global() {
  static state s;
  return s;
}

std::string_view level_name(level lvl) {
  switch (lvl) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
  }
  return "info";
}

void append_timestamp(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  out += buf;
}

bool needs_quotes(std::string_view value) {
  if (value.empty()) {
    return true;
  }
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) {
      return true;
    }
  }
  return false;
}

// Escapes for both formats: quotes, backslashes and control characters, so a
// hostile value can never forge a second log line.
void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
}

void append_kv(std::string& out, std::string_view key, std::string_view value) {
  out += ' ';
  out += key;
  out += '=';
  if (needs_quotes(value)) {
    out += '"';
    append_escaped(out, value);
    out += '"';
  } else {
    out += value;
  }
}

void append_json(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  append_escaped(out, key);
  out += "\":\"";
  append_escaped(out, value);
  out += '"';
}

std::string format_line(level lvl, std::string_view component, std::string_view message,
                        std::initializer_list<field> fields, format fmt) {
  std::string line;
  line.reserve(128);
  if (fmt == format::json) {
    line += "{\"ts\":\"";
    append_timestamp(line);
    line += '"';
    append_json(line, "level", level_name(lvl));
    append_json(line, "component", component);
    append_json(line, "msg", message);
    for (const auto& f : fields) {
      append_json(line, f.key(), f.value());
    }
    line += "}\n";
    return line;
  }
  append_timestamp(line);
  append_kv(line, "level", level_name(lvl));
  append_kv(line, "component", component);
  append_kv(line, "msg", message);
  for (const auto& f : fields) {
    append_kv(line, f.key(), f.value());
  }
  line += '\n';
  return line;
}

}  // namespace

void configure(level minimum, format fmt) {
  global().minimum = static_cast<int>(minimum);
  global().fmt = fmt;
}

void set_sink(sink s) {
  std::lock_guard lock(global().mutex);
  global().out = std::move(s);
}

bool enabled(level lvl) noexcept {
  return static_cast<int>(lvl) >= global().minimum.load();
}

result<level> parse_level(std::string_view text) {
  for (auto lvl : {level::debug, level::info, level::warn, level::error}) {
    if (text == level_name(lvl)) {
      return lvl;
    }
  }
  return reelfarm::error(
      common_errc::invalid_argument,
      "unknown log level '" + std::string(text) + "' (expected debug, info, warn or error)");
}

result<format> parse_format(std::string_view text) {
  if (text == "kv") {
    return format::kv;
  }
  if (text == "json") {
    return format::json;
  }
  return reelfarm::error(common_errc::invalid_argument,
                         "unknown log format '" + std::string(text) + "' (expected kv or json)");
}

void write(level lvl, std::string_view component, std::string_view message,
           std::initializer_list<field> fields) {
  auto& s = global();
  if (!enabled(lvl)) {
    return;
  }
  auto line = format_line(lvl, component, message, fields, s.fmt.load());
  std::lock_guard lock(s.mutex);
  if (s.out) {
    s.out(line);
    return;
  }
  // One write(2) per line keeps lines whole even when several processes share stderr.
  const char* data = line.data();
  size_t left = line.size();
  while (left > 0) {
    auto n = ::write(STDERR_FILENO, data, left);
    if (n <= 0) {
      return;  // stderr closed: nowhere left to report it
    }
    data += n;
    left -= static_cast<size_t>(n);
  }
}

std::string redact_dsn(std::string_view dsn) {
  std::string out(dsn);
  // URI form: scheme://user:password@host...
  if (auto scheme = out.find("://"); scheme != std::string::npos) {
    auto at = out.find('@', scheme + 3);
    if (at != std::string::npos) {
      auto colon = out.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at) {
        out.replace(colon + 1, at - colon - 1, "[redacted]");
      }
    }
    // A password can also ride in the query string.
    if (auto pw = out.find("password="); pw != std::string::npos) {
      auto end = out.find('&', pw);
      out.replace(pw + 9, (end == std::string::npos ? out.size() : end) - pw - 9, "[redacted]");
    }
    return out;
  }
  // key=value form: password=secret or password='sec ret'.
  auto pw = out.find("password");
  while (pw != std::string::npos) {
    auto eq = out.find_first_not_of(' ', pw + 8);
    if (eq != std::string::npos && out[eq] == '=') {
      auto begin = out.find_first_not_of(' ', eq + 1);
      if (begin == std::string::npos) {
        break;
      }
      size_t end;
      if (out[begin] == '\'') {
        end = begin + 1;
        while (end < out.size() && out[end] != '\'') {
          end += out[end] == '\\' ? 2 : 1;
        }
        end = std::min(end + 1, out.size());
      } else {
        end = out.find(' ', begin);
        if (end == std::string::npos) {
          end = out.size();
        }
      }
      out.replace(begin, end - begin, "[redacted]");
    }
    pw = out.find("password", pw + 8);
  }
  return out;
}

}  // namespace reelfarm::log
