// A ZAP handler (ZeroMQ RFC 27) for tests: it makes a libzmq CURVE ROUTER
// admit only the public keys in a KeyRegistry, as the controller's own
// server does, so that the agent's client can be held to libzmq. It runs on
// its own thread, reading a KeyRegistry that is not thread-safe (the
// controller asks it on its loop only): admit keys before the connection
// that needs them, as the tests do, so that libzmq's hand-over of the
// handshake to this thread orders the read after the write.
//
// It must be started before the agent endpoint binds: libzmq admits every
// client when no ZAP handler is listening.
#pragma once

#include <atomic>
#include <thread>
#include <zmq.hpp>

#include "common/status.h"

namespace slipway::controller {

class KeyRegistry;

class ZapHandler {
 public:
  ZapHandler(zmq::context_t& context, const KeyRegistry& keys);
  ~ZapHandler();  // stops the thread
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  // Binds inproc://zeromq.zap.01 and starts answering.
  Status start();
  void stop();

  uint64_t admitted() const { return admitted_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  void run();
  void answer(zmq::socket_t& socket);

  zmq::context_t& context_;
  const KeyRegistry& keys_;
  std::unique_ptr<zmq::socket_t> socket_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> admitted_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace slipway::controller
