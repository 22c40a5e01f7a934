// The agent's connection to the controller: a CURVE DEALER socket that says
// hello, sends and checks heartbeats, notices a lost or refusing controller,
// and reconnects with jittered exponential back-off. A refused key is said
// once per attempt in the log and retried slowly; the link never spins.
//
// Not thread-safe: runs on the agent's EventLoop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <zmq.hpp>

#include "agent/backoff.h"
#include "agent/event_loop.h"
#include "common/context.h"
#include "common/protocol.h"

namespace slipway::agent {

struct LinkTiming {
  int64_t hello_timeout_ms = 5000;   // from connect to welcome
  int64_t backoff_initial_ms = 200;  // after a lost or failed connection
  int64_t backoff_max_ms = 30000;
  int64_t refused_initial_ms = 5000;  // after the controller refused our key
  int64_t refused_max_ms = 300000;
  int64_t heartbeat_ms = 5000;  // until the welcome says otherwise
  int silent_heartbeats = 3;    // heartbeats missed before the link is lost
};

class ControllerLink {
 public:
  enum class State { kIdle, kConnecting, kReady, kStopped };

  struct Callbacks {
    std::function<proto::Hello()> make_hello;                    // at every (re)connection
    std::function<void(const proto::Welcome&)> on_welcome;       // the link is ready
    std::function<void(proto::ControllerMessage&&)> on_message;  // after welcome, not heartbeats
    std::function<void()> on_lost;                               // a ready link went down
  };

  ControllerLink(EventLoop& loop, zmq::context_t& context, Contextualization context_data,
                 Callbacks callbacks, LinkTiming timing = {});
  ~ControllerLink();
  ControllerLink(const ControllerLink&) = delete;
  ControllerLink& operator=(const ControllerLink&) = delete;

  void start();
  void stop();

  State state() const { return state_; }
  bool ready() const { return state_ == State::kReady; }
  // Sends when ready; false otherwise (the caller keeps what must be resent).
  bool send(const proto::AgentMessage& message);

  uint64_t connections() const { return connections_; }
  uint64_t refusals() const { return refusals_; }

 private:
  void connect();
  void close_socket();
  void retry(bool refused, const std::string& why);
  void on_readable();
  void on_monitor();
  void on_frame(const zmq::message_t& frame);
  void arm_heartbeat();

  EventLoop& loop_;
  zmq::context_t& context_;
  Contextualization context_data_;
  Callbacks callbacks_;
  LinkTiming timing_;
  Backoff backoff_;
  Backoff refused_backoff_;
  State state_ = State::kIdle;
  std::unique_ptr<zmq::socket_t> socket_;
  std::unique_ptr<zmq::socket_t> monitor_;
  std::string monitor_address_;
  uint64_t attempt_timer_ = 0;
  uint64_t hello_timer_ = 0;
  uint64_t heartbeat_timer_ = 0;
  int64_t last_heard_ = 0;
  int64_t heartbeat_ms_;
  uint64_t connections_ = 0;
  uint64_t refusals_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace slipway::agent
