// The agent endpoint on the controller's event loop, with a real CURVE
// client and the real ZAP handler over loopback.
#include "controller/agent_endpoint.h"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <zmq.hpp>

#include "common/crypto.h"
#include "common/curve_socket.h"
#include "common/protocol.h"
#include "controller/key_registry.h"
#include "controller/zap_handler.h"

using namespace slipway;
using namespace slipway::controller;

namespace {

struct Rig {
  zmq::context_t context;
  KeyRegistry keys;
  ZapHandler zap{context, keys};
  boost::asio::io_context io;
  AgentEndpoint endpoint{io, context};
  crypto::KeyPair server = crypto::generate_keypair().value();
  crypto::KeyPair agent = crypto::generate_keypair().value();
  zmq::socket_t dealer{context, zmq::socket_type::dealer};
  int received = 0;
  size_t handlers = 0;  // event-loop handlers run

  explicit Rig(bool echo) {
    keys.admit(agent.public_key, AgentIdentity{"d1", "web.1"});
    REQUIRE(zap.start().ok());
    REQUIRE(endpoint
                .start("tcp://127.0.0.1:*", server,
                       [this, echo](AgentFrame&& frame) {
                         ++received;
                         CHECK(frame.public_key == agent.public_key);
                         if (echo) {
                           proto::Reply reply;
                           reply.id = static_cast<uint64_t>(received);
                           endpoint.send(frame.routing_id, reply);
                         }
                       })
                .ok());
    REQUIRE(crypto::make_curve_client(dealer, agent, server.public_key).ok());
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(endpoint.bound_endpoint());
  }

  // Runs the loop until the endpoint has handed over `count` messages.
  bool run_until_received(int count) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (received < count && std::chrono::steady_clock::now() < deadline)
      handlers += io.run_one_for(std::chrono::milliseconds(100));
    return received >= count;
  }
};

std::string heartbeat() {
  return proto::encode(proto::AgentMessage{proto::Heartbeat{}});
}

}  // namespace

TEST_CASE("the agent endpoint delivers each message with the key ZAP admitted", "[endpoint]") {
  Rig rig(false);
  for (int i = 1; i <= 3; ++i) {
    rig.dealer.send(zmq::buffer(heartbeat()));
    REQUIRE(rig.run_until_received(i));
  }
  CHECK(rig.endpoint.malformed() == 0);
}

TEST_CASE("the agent endpoint's work per message stays flat however many it has answered",
          "[endpoint]") {
  // Every answer sent drains the socket once more; a drain that armed a
  // second wait on the ZMQ_FD while one was pending made every later
  // message run one more empty drain than the last, so a controller that
  // had answered a few thousand messages spun through thousands per message.
  Rig rig(true);
  constexpr int kWarmUp = 300;
  constexpr int kMeasured = 100;
  size_t before = 0;
  for (int i = 1; i <= kWarmUp + kMeasured; ++i) {
    if (i == kWarmUp + 1) before = rig.handlers;
    rig.dealer.send(zmq::buffer(heartbeat()));
    REQUIRE(rig.run_until_received(i));
    zmq::message_t answer;
    // The answer is sent by the endpoint's I/O thread; keep the loop turning
    // until it arrives.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!rig.dealer.recv(answer, zmq::recv_flags::dontwait) &&
           std::chrono::steady_clock::now() < deadline) {
      rig.handlers += rig.io.poll();
    }
    auto decoded = proto::decode_controller_message(answer.to_string_view());
    REQUIRE(decoded.ok());
    REQUIRE(std::get<proto::Reply>(*decoded).id == static_cast<uint64_t>(i));
  }
  // A handful of handlers per exchange (the wake, the drain after the send),
  // polls of an idle loop included; the bug made it about kWarmUp.
  double per_message = static_cast<double>(rig.handlers - before) / kMeasured;
  INFO("event-loop handlers per message: " << per_message);
  CHECK(per_message < 20);
}
