// The agent's connection to the controller: one TCP connection speaking
// CurveZMQ (agent/curve_client.h) that says hello, sends and checks
// heartbeats, notices a lost or refusing controller, and reconnects with
// jittered exponential back-off. A refused key is said once per attempt in
// the log and retried slowly; the link never spins. Messages are written
// from the calling thread as they are sent: no I/O thread in between.
//
// Not thread-safe: runs on the agent's EventLoop.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "agent/backoff.h"
#include "agent/event_loop.h"
#include "common/context.h"
#include "common/curve/curve_client.h"
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

  ControllerLink(EventLoop& loop, Contextualization context_data, Callbacks callbacks,
                 LinkTiming timing = {});
  ~ControllerLink();
  ControllerLink(const ControllerLink&) = delete;
  ControllerLink& operator=(const ControllerLink&) = delete;

  void start();
  void stop();

  State state() const { return state_; }
  bool ready() const { return state_ == State::kReady; }
  // Sends when ready and the send buffer has room; false otherwise (the
  // caller keeps what must be resent).
  bool send(const proto::AgentMessage& message);

  // Past this many unwritten bytes, send() refuses more.
  static constexpr size_t kSendBuffer = 1 << 20;

  uint64_t connections() const { return connections_; }
  uint64_t refusals() const { return refusals_; }

 private:
  void connect();
  void close_socket();
  void retry(bool refused, const std::string& why);
  void on_event(short revents);
  bool on_connected();
  bool read_in();
  void on_closed(const std::string& why);
  void on_session_error(const Error& error);
  std::string flush();
  void update_watch();
  void on_frame(std::string_view frame);
  void arm_heartbeat();

  EventLoop& loop_;
  Contextualization context_data_;
  Callbacks callbacks_;
  LinkTiming timing_;
  Backoff backoff_;
  Backoff refused_backoff_;
  State state_ = State::kIdle;
  int fd_ = -1;
  bool tcp_connecting_ = false;  // connect(2) in progress
  short watching_ = 0;           // the events fd_ is watched for
  std::unique_ptr<CurveClient> session_;
  bool hello_sent_ = false;
  // Connections closed by the controller before its WELCOME, in a row.
  static constexpr int kUnwelcomedCloses = 3;
  int unwelcomed_closes_ = 0;
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
