#pragma once

#include <string>
#include <string_view>
#include <vector>

/// Server-Sent Events framing (text/event-stream) for `reelfarm ctl watch`.
namespace reelfarm::app {

struct sse_event {
  std::string id;    ///< "" when the event carried none
  std::string type;  ///< "message" when the event named none
  std::string data;  ///< data lines joined with '\n'
};

/// Cuts a byte stream into events; chunks may split lines and events
/// anywhere. Comments (": keep-alive") and retry: lines yield nothing.
class sse_parser {
 public:
  std::vector<sse_event> feed(std::string_view chunk);

 private:
  void take_line(std::string_view line, std::vector<sse_event>& out);

  std::string pending_;
  sse_event current_;
  bool has_data_ = false;
};

}  // namespace reelfarm::app
