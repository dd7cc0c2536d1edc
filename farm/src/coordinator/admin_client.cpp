#include "reelfarm/farm/coordinator/admin_client.hpp"

#include <pqxx/pqxx>
#include <zmq.hpp>

#include "reelfarm/farm/errc.hpp"
#include "reelfarm/farm/protocol/codec.hpp"

namespace reelfarm::farm {

result<farm_credentials> load_operator_credentials(pqxx::connection& conn) {
  try {
    pqxx::nontransaction tx(conn);
    auto rows = tx.exec(
        "SELECT o.public_key, o.secret_key, s.public_key FROM farm_operator_key o, "
        "farm_server_key s");
    if (rows.empty()) {
      return error(farm_errc::not_enrolled, "no farm coordinator has started on this database");
    }
    auto server = rows[0][2].as<std::string>();
    return farm_credentials{
        {rows[0][0].as<std::string>(), rows[0][1].as<std::string>()}, server, server};
  } catch (const std::exception& e) {
    return error(farm_errc::persistence,
                 std::string("cannot read the farm's operator key: ") + e.what());
  }
}

std::filesystem::path operator_key_path(const std::filesystem::path& data_dir) {
  return data_dir / "secrets" / "farm-operator.json";
}

result<admin_reply_msg> admin_request(const std::string& endpoint,
                                      const farm_credentials& credentials, const admin_msg& request,
                                      std::chrono::milliseconds timeout) {
  try {
    zmq::context_t context(1);
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::curve_serverkey, credentials.server_public_key);
    dealer.set(zmq::sockopt::curve_publickey, credentials.client.public_key);
    dealer.set(zmq::sockopt::curve_secretkey, credentials.client.secret_key);
    dealer.connect(endpoint);
    auto text = encode_frame(frame{"", request});
    dealer.send(zmq::buffer(text), zmq::send_flags::none);
    zmq::pollitem_t item{dealer.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) {
      return error(farm_errc::timeout,
                   "no answer from the coordinator at " + endpoint + " within " +
                       std::to_string(timeout.count()) +
                       " ms (is it running, and are the operator credentials its own?)");
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
      return error(e->code == "forbidden" ? farm_errc::forbidden : farm_errc::invalid_argument,
                   e->message);
    }
    return error(farm_errc::out_of_order, "unexpected answer from the coordinator");
  } catch (const zmq::error_t& e) {
    return error(farm_errc::transport, "cannot talk to " + endpoint + ": " + e.what());
  }
}

}  // namespace reelfarm::farm
