#include "reelfarm/farm/coordinator/admin_client.hpp"

#include <zmq.hpp>

#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/protocol/codec.hpp"

namespace reelfarm::farm {

result<admin_reply_msg> admin_request(const std::string& endpoint, const admin_msg& request,
                                      std::chrono::milliseconds timeout) {
  try {
    zmq::context_t context(1);
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(endpoint);
    auto text = encode_frame(frame{"", request});
    dealer.send(zmq::buffer(text), zmq::send_flags::none);
    zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) {
      return error(farm_errc::timeout, "no answer from the coordinator at " + endpoint +
                                           " within " + std::to_string(timeout.count()) + " ms");
    }
    zmq::message_t reply;
    (void)dealer.recv(reply, zmq::recv_flags::none);
    // The coordinator is trusted here; a list of 10,000 nodes exceeds a node frame.
    auto f = decode_frame(reply.to_string_view(), nullptr, 64 * 1024 * 1024);
    if (!f) {
      return f.error();
    }
    if (const auto* r = std::get_if<admin_reply_msg>(&f->body)) {
      return *r;
    }
    if (const auto* e = std::get_if<error_msg>(&f->body)) {
      return error(farm_errc::invalid_argument, e->message);
    }
    return error(farm_errc::out_of_order, "unexpected answer from the coordinator");
  } catch (const zmq::error_t& e) {
    return error(farm_errc::transport, "cannot talk to " + endpoint + ": " + e.what());
  }
}

}  // namespace reelfarm::farm
