#include "sse_parser.hpp"

namespace reelfarm::app {

std::vector<sse_event> sse_parser::feed(std::string_view chunk) {
  std::vector<sse_event> out;
  pending_.append(chunk);
  std::size_t start = 0;
  for (auto nl = pending_.find('\n', start); nl != std::string::npos;
       nl = pending_.find('\n', start)) {
    std::string_view line(pending_.data() + start, nl - start);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    take_line(line, out);
    start = nl + 1;
  }
  pending_.erase(0, start);
  return out;
}

void sse_parser::take_line(std::string_view line, std::vector<sse_event>& out) {
  if (line.empty()) {  // the blank line ends an event
    if (has_data_ || !current_.type.empty()) {
      if (current_.type.empty()) {
        current_.type = "message";
      }
      out.push_back(std::move(current_));
    }
    current_ = {};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') {
    return;
  }
  auto colon = line.find(':');
  auto field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
  if (value.starts_with(' ')) {
    value.remove_prefix(1);
  }
  if (field == "id") {
    current_.id = value;
  } else if (field == "event") {
    current_.type = value;
  } else if (field == "data") {
    current_.data += (has_data_ ? "\n" : "") + std::string(value);
    has_data_ = true;
  }
}

}  // namespace reelfarm::app
