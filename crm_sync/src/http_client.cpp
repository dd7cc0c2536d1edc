#include "reelfarm/crm_sync/http_client.hpp"

#include "reelfarm/common/errc.hpp"
#include "reelfarm/crm_sync/errc.hpp"

namespace reelfarm::crm {

result<http_response> http_client::perform(const http_request& request) {
  auto response = client_.perform({request.method, request.url, request.headers, request.body, {}});
  if (response) {
    return response;
  }
  const auto& e = response.error();
  if (e.is(common_errc::timeout)) {
    return error(crm_errc::timeout, "Salesforce did not answer: " + e.message());
  }
  return error(crm_errc::transport, e.message());
}

}  // namespace reelfarm::crm
