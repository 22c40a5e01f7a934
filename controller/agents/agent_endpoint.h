// The agent endpoint: a TCP listener on the controller's Asio event loop
// whose connections speak CurveZMQ as a ROUTER (common/curve_server.h), and
// optionally a Unix socket speaking the same for machines that share the
// controller's kernel (ZeroMQ's ipc transport). Each connection is read,
// handshaken, decrypted and answered on the event loop's thread, with no I/O
// thread in between.
//
// Every message handed to the handler carries the public key its
// connection's handshake proved and `authorize` admitted, never a claim
// from the message itself. Malformed messages are counted, logged and
// dropped; a connection that breaks the protocol is closed.
//
// Not thread-safe: use from the event loop thread only.
#pragma once

#include <array>
#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/curve/curve_server.h"
#include "common/protocol.h"
#include "common/status.h"

namespace slipway::controller {

struct AgentFrame {
  std::string public_key;    // proved by the CURVE handshake, admitted by `authorize`
  std::string routing_id;    // this connection's identity, for send()
  std::string peer_address;  // the connection's IP address; "" over the Unix socket
  proto::AgentMessage message;
};

class AgentEndpoint {
 public:
  using Handler = std::function<void(AgentFrame&&)>;

  // `authorize` decides, for each handshake, whether a client key (Z85) may connect.
  // Silence and the rate of warnings are judged on `clock`, which must
  // outlive the endpoint; the handshake's deadline is an Asio timer.
  AgentEndpoint(boost::asio::io_context& io, CurveServer::Authorize authorize, const Clock& clock);
  ~AgentEndpoint();
  AgentEndpoint(const AgentEndpoint&) = delete;
  AgentEndpoint& operator=(const AgentEndpoint&) = delete;

  // Listens on `endpoint` ("tcp://*:7740", "tcp://127.0.0.1:*",
  // "tcp://[::1]:7740") as a CURVE server with `keys`, and starts delivering
  // messages to `handler`.
  Status start(const std::string& endpoint, const crypto::KeyPair& keys, Handler handler);
  // Also accepts agents on a Unix socket at `path` (ipc://PATH), after
  // start(). A socket left there by a controller that died is replaced; any
  // other file is not. The socket is made mode 0600: only the controller's
  // user (root, for local machines) may connect, and CURVE still decides who
  // is admitted.
  Status listen_local(const std::string& path);

  // The TCP endpoint actually bound, with the port chosen ("tcp://0.0.0.0:41234").
  const std::string& bound_endpoint() const { return bound_; }
  int port() const { return port_; }
  // "ipc://PATH" once listen_local() succeeded, else "".
  const std::string& local_endpoint() const { return local_; }

  // Queues a message for one connection and writes what the socket takes at
  // once. False when that connection is gone or its queue is full; the
  // message is then dropped.
  bool send(const std::string& routing_id, const proto::ControllerMessage& message);

  // Closes connection `routing_id`, if it is still open: one that a newer
  // connection of the same agent has replaced.
  void disconnect(const std::string& routing_id);

  // Closes every connection past its handshake that has sent nothing for
  // longer than `silence`, and returns how many. A peer that vanished
  // without closing (a virtual machine killed, a host powered off) leaves a
  // connection that nothing else would end. Agents send a heartbeat every
  // few seconds whatever they are doing.
  size_t close_silent(std::chrono::milliseconds silence);

  void stop();

  // A connection that has not finished its handshake this long after it
  // was accepted is closed (libzmq's ZMQ_HANDSHAKE_IVL, 30 s by default).
  void set_handshake_time(std::chrono::milliseconds time) { handshake_time_ = time; }

  uint64_t malformed() const { return malformed_; }
  // Connections open now, handshaken or not.
  size_t connections() const { return connections_.size(); }
  // Of those, the ones still in their handshake: at most 256, and at most
  // 32 from one IP address; more are closed on arrival.
  size_t handshaking() const { return handshaking_; }

 private:
  struct Connection;
  using ConnectionPtr = std::shared_ptr<Connection>;

  using Stream = boost::asio::generic::stream_protocol;
  using Acceptor = boost::asio::basic_socket_acceptor<Stream>;

  Status listen(const Stream::endpoint& where, const std::string& endpoint);
  void accept(Acceptor& acceptor);
  void open(Stream::socket socket);
  void read(const ConnectionPtr& c);
  void received(const ConnectionPtr& c, std::string_view bytes);
  void flush(const ConnectionPtr& c);
  void handshake_over(const ConnectionPtr& c);
  void close(const ConnectionPtr& c);

  boost::asio::io_context& io_;
  CurveServer::Authorize authorize_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  zmtp::Key public_key_{};
  zmtp::Key secret_key_{};
  Handler handler_;
  std::string bound_;
  int port_ = 0;
  const Clock& clock_;
  std::string local_;
  std::chrono::milliseconds handshake_time_ = std::chrono::seconds(30);
  uint64_t next_id_ = 1;
  size_t handshaking_ = 0;
  std::unordered_map<std::string, size_t> handshaking_from_;  // by IP address ("" local)
  // At most one warning a second about connections that fail their handshake.
  struct Quiet {
    int64_t last = INT64_MIN / 2;  // steady ms
    bool allow(int64_t now) {
      if (now - last < 1000) return false;
      last = now;
      return true;
    }
  } quiet_;
  std::unordered_map<std::string, ConnectionPtr> connections_;
  std::array<char, 65536> buffer_;  // what one read takes in
  bool stopped_ = true;
  uint64_t malformed_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace slipway::controller
