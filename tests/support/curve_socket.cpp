#include "support/curve_socket.h"

#include <zmq.h>

#include <string>
#include <zmq.hpp>

namespace slipway::crypto {
namespace {

constexpr char kZapDomain[] = "slipway";

Status set_option(zmq::socket_t& socket, int option, const void* value, size_t size) {
  if (zmq_setsockopt(socket.handle(), option, value, size) != 0) {
    return Error(Code::kInternal,
                 std::string("cannot set CURVE option on socket: ") + zmq_strerror(zmq_errno()));
  }
  return ok_status();
}

}  // namespace

Status make_curve_server(zmq::socket_t& socket, const KeyPair& keys) {
  int one = 1;
  SLIPWAY_RETURN_IF_ERROR(set_option(socket, ZMQ_CURVE_SERVER, &one, sizeof one));
  SLIPWAY_RETURN_IF_ERROR(
      set_option(socket, ZMQ_CURVE_SECRETKEY, keys.secret_key.data(), keys.secret_key.size()));
  return set_option(socket, ZMQ_ZAP_DOMAIN, kZapDomain, sizeof kZapDomain - 1);
}

Status make_curve_client(zmq::socket_t& socket, const KeyPair& keys, std::string_view server_key) {
  if (!is_valid_key(server_key)) {
    return Error(Code::kInvalidArgument, "the controller's public key is not a valid CURVE key");
  }
  SLIPWAY_RETURN_IF_ERROR(
      set_option(socket, ZMQ_CURVE_SERVERKEY, server_key.data(), server_key.size()));
  SLIPWAY_RETURN_IF_ERROR(
      set_option(socket, ZMQ_CURVE_PUBLICKEY, keys.public_key.data(), keys.public_key.size()));
  return set_option(socket, ZMQ_CURVE_SECRETKEY, keys.secret_key.data(), keys.secret_key.size());
}

}  // namespace slipway::crypto
