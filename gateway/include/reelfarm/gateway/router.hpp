#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reelfarm/gateway/http_message.hpp"

namespace reelfarm::gateway {

/// Who may call a route.
enum class access { anyone, creator, admin };

/// Which rate-limit bucket a route counts against.
enum class limit_class { none, standard, login };

/// The authenticated caller, from a verified access token.
struct principal {
  std::string user_id;
  std::string role;  ///< "creator" or "admin"
  bool is_admin() const noexcept { return role == "admin"; }
};

/// What a handler sees: the request, the path parameters, the caller.
struct request_context {
  const http_request& request;
  std::map<std::string, std::string, std::less<>> params;
  std::optional<principal> caller;

  /// The path parameter `name` ("" when the route has none by that name).
  const std::string& param(std::string_view name) const;
};

using route_handler = std::function<http_response(request_context&)>;

/// One registered route: method, pattern with `{name}` segments, policy.
struct route {
  std::string method;
  std::string pattern;  ///< e.g. "/api/v1/projects/{id}"
  access who = access::creator;
  limit_class limit = limit_class::standard;
  /// True when the handler blocks (PostgreSQL, Argon2id): it runs on the
  /// blocking pool instead of an I/O thread.
  bool blocking = true;
  route_handler handler;
};

/// The outcome of matching a method and path.
struct route_match {
  const route* found = nullptr;
  std::map<std::string, std::string, std::less<>> params;
  std::vector<std::string> allowed;  ///< methods of the path when the method did not match
};

/// Method + path-pattern routing. Parameters match one whole, non-empty
/// segment; they are percent-decoded and never contain '/'.
class router {
 public:
  /// Adds a route; patterns must start with '/'.
  void add(route r);
  /// The route for `method` and `path` (already without the query).
  route_match match(std::string_view method, std::string_view path) const;
  /// Every route, in registration order.
  const std::vector<route>& routes() const noexcept { return routes_; }

 private:
  std::vector<route> routes_;
  std::vector<std::vector<std::string>> segments_;
};

/// Splits a path into its segments ("/a/b" -> {"a","b"}); "" segments kept.
std::vector<std::string_view> split_path(std::string_view path);

}  // namespace reelfarm::gateway
