// The agent endpoint: a ZeroMQ ROUTER socket, CURVE server, driven by the
// controller's Asio event loop through the socket's ZMQ_FD.
//
// Every message handed to the handler carries the public key that ZAP
// authenticated for its connection ("User-Id"), never a claim from the
// message itself. Malformed frames are counted, logged and dropped.
//
// Not thread-safe: use from the event loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <functional>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "common/crypto.h"
#include "common/protocol.h"
#include "common/status.h"

namespace slipway::controller {

struct AgentFrame {
  std::string public_key;    // authenticated by ZAP
  std::string routing_id;    // this connection's ROUTER identity
  std::string peer_address;  // the connection's IP address
  proto::AgentMessage message;
};

class AgentEndpoint {
 public:
  using Handler = std::function<void(AgentFrame&&)>;

  AgentEndpoint(boost::asio::io_context& io, zmq::context_t& context);
  ~AgentEndpoint();
  AgentEndpoint(const AgentEndpoint&) = delete;
  AgentEndpoint& operator=(const AgentEndpoint&) = delete;

  // Binds `endpoint` ("tcp://*:7740", "tcp://127.0.0.1:*") as a CURVE server
  // with `keys`, and starts delivering messages to `handler`.
  Status start(const std::string& endpoint, const crypto::KeyPair& keys, Handler handler);
  // The endpoint actually bound, with the port chosen ("tcp://0.0.0.0:41234").
  const std::string& bound_endpoint() const { return bound_; }
  int port() const;

  // Queues a message for one connection. False when that connection is gone
  // or its queue is full; the message is then dropped.
  bool send(const std::string& routing_id, const proto::ControllerMessage& message);

  void stop();

  uint64_t malformed() const { return malformed_; }

 private:
  void arm();
  void drain();
  void schedule_drain();

  boost::asio::io_context& io_;
  zmq::context_t& context_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> fd_;
  Handler handler_;
  std::string bound_;
  bool drain_scheduled_ = false;
  bool waiting_ = false;  // a wait on the ZMQ_FD is pending
  bool stopped_ = false;
  uint64_t malformed_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace slipway::controller
