#include "reelfarm/gateway/request_parser.hpp"

#include "beast_request.hpp"
#include "reelfarm/gateway/errc.hpp"

namespace reelfarm::gateway {

result<http_request> parse_request_bytes(std::string_view bytes, std::size_t header_limit,
                                         std::size_t body_limit) {
  namespace http = boost::beast::http;
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(header_limit));
  parser.body_limit(body_limit);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (!parser.is_done() && used < bytes.size()) {
    auto n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    if (ec == http::error::need_more) {
      break;
    }
    if (ec) {
      return error(gateway_errc::invalid_request, "malformed request: " + ec.message());
    }
    used += n;
    if (n == 0) {
      break;
    }
  }
  if (!parser.is_done()) {
    parser.put_eof(ec);
    if (ec || !parser.is_done()) {
      return error(gateway_errc::invalid_request, "incomplete request");
    }
  }
  return to_http_request(parser.release());
}

}  // namespace reelfarm::gateway
