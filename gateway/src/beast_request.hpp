#pragma once

// Internal: Beast's request as the gateway's plain http_request. Only the
// two Beast translation units include this.

#include <utility>  // Beast 1.74 under C++20 needs it first

#include <boost/beast/http.hpp>

#include "reelfarm/gateway/http_message.hpp"

namespace reelfarm::gateway {

inline http_request to_http_request(
    boost::beast::http::request<boost::beast::http::string_body>&& in) {
  http_request out;
  out.method = std::string(in.method_string());
  out.target = std::string(in.target());
  auto q = out.target.find('?');
  out.path = out.target.substr(0, q);
  out.query = q == std::string::npos ? std::string() : out.target.substr(q + 1);
  out.headers.reserve(8);
  for (const auto& field : in) {
    std::string name(field.name_string());
    for (auto& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  out.body = std::move(in.body());
  return out;
}

}  // namespace reelfarm::gateway
