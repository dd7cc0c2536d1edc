#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/common/result.hpp"

/// A small blocking HTTP client on libcurl for `reelfarm ctl`: one request,
/// one answer. Knows nothing of the Reelfarm API (see api_client.hpp).
namespace reelfarm::app {

/// Why a client call failed; the category of every error `reelfarm ctl` prints.
enum class ctl_errc {
  unreachable = 1,  ///< no connection, a timeout, a dropped or silent stream
  server,           ///< 5xx or 429: worth retrying later
  refused,          ///< 4xx: the request itself was refused
  malformed,        ///< the server answered something that is not the API
  local,            ///< a file or the terminal on this machine
  interrupted,      ///< Ctrl-C
};
std::string_view category_of(ctl_errc) noexcept;
std::string_view to_string(ctl_errc code) noexcept;

/// The status line and headers of an answer (names lowercase), and its body
/// unless a sink took it.
struct http_response {
  long status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

/// Takes the body of a 2xx answer chunk by chunk; `head` has the status and
/// headers. Returning false ends the transfer (not an error).
using body_sink = std::function<bool(const http_response& head, std::string_view chunk)>;

struct http_request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value"
  std::optional<std::string> body;   ///< sent as application/json
  /// Whole-call limit; zero for none (streams and downloads).
  std::chrono::seconds timeout{30};
  /// Ends the call when no byte arrived for this long; zero for none.
  std::chrono::seconds silence_limit{0};
  body_sink sink;  ///< empty: the body is collected in http_response::body
};

/// Performs the request. Fails (unreachable, naming the URL) only when no
/// complete answer arrived; any HTTP status is a success here.
result<http_response> http_perform(const http_request& request);

}  // namespace reelfarm::app
