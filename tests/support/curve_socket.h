// The CURVE options of libzmq sockets, for tests: libzmq is the reference
// CurveZMQ peer that the agent's client (agent/curve_client.h) and the
// controller's server (common/curve_server.h) are held to, and tests play
// agents with libzmq CURVE clients.
//
// Thread-safe as far as the socket is: call from the socket's thread.
#pragma once

#include <string_view>

#include "common/crypto.h"
#include "common/status.h"

namespace zmq {
class socket_t;
}

namespace slipway::crypto {

// Makes `socket` a CURVE server with `keys`. ZAP domain "slipway".
Status make_curve_server(zmq::socket_t& socket, const KeyPair& keys);

// Makes `socket` a CURVE client of the server whose public key is `server_key`.
Status make_curve_client(zmq::socket_t& socket, const KeyPair& keys, std::string_view server_key);

}  // namespace slipway::crypto
