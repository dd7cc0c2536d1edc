#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reelfarm::gateway {

/// A parsed HTTP request, independent of Boost.Beast so that routing and
/// handlers compile without it. Header names are lower case.
struct http_request {
  std::string method;  ///< "GET", "POST", ...
  std::string target;  ///< as sent: path and query
  std::string path;    ///< the target up to '?'
  std::string query;   ///< after '?', undecoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_ip;
  std::string request_id;

  /// The first header called `name` (lower case), if any.
  std::optional<std::string_view> header(std::string_view name) const;
  /// The decoded value of query parameter `name`, if present.
  std::optional<std::string> query_param(std::string_view name) const;
};

/// A response a handler returns; the server adds Date, Server, Content-Length,
/// keep-alive and the request id.
struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// Set by responses that stream (Server-Sent Events, large downloads): the
  /// server sends no body of its own but hands the connection to `takeover`
  /// on a thread of its own, with `head` (status line and headers, ending in
  /// the blank line; always `Connection: close`) for it to send first. It must
  /// return soon after `stopping` becomes true; the server closes `fd` after.
  std::function<void(int fd, std::string_view head, const std::atomic<bool>& stopping)> takeover;
  /// Whose stream it is (a user id), for the per-user stream cap.
  std::string stream_owner;

  void set_header(std::string name, std::string value);
};

/// The head `takeover` sends: status line, Server, the content type, the
/// headers and `Connection: close`, then the blank line.
std::string serialize_head(const http_response& response);

/// Writes all of `data` to a blocking or non-blocking socket, waiting up to
/// `timeout` for each part to be accepted; false when the peer is gone, the
/// wait timed out or `stopping` became true.
bool write_fully(int fd, std::string_view data, std::chrono::milliseconds timeout,
                 const std::atomic<bool>& stopping);
/// Waits until `fd` can take more bytes: false when the peer is gone, `timeout`
/// passed or `stopping` became true (checked every 250 ms).
bool wait_writable(int fd, std::chrono::milliseconds timeout, const std::atomic<bool>& stopping);
/// True when the peer has closed or reset the connection (nothing blocks).
bool peer_gone(int fd);

/// The JSON error every failure answers with: {"error":{"code","message"}}.
http_response error_response(int status, std::string_view code, std::string_view message);
/// A JSON response with `body` already serialised.
http_response json_response(int status, std::string body);

/// Percent-decodes `text` ('+' as space when `plus_is_space`); nullopt for a
/// bad escape or an embedded NUL.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

/// `text` without the spaces and tabs around it (header values, list items).
std::string_view trim_blanks(std::string_view text);

/// The reason phrase of `status` ("Not Found").
std::string_view reason_phrase(int status) noexcept;

}  // namespace reelfarm::gateway
