// slipway-agent as an object: reads its contextualization, keeps the link to
// the controller, and (as PID 1 of a machine) reaps orphaned processes.
#pragma once

#include <memory>
#include <string>
#include <zmq.hpp>

#include "agent/controller_link.h"
#include "agent/event_loop.h"
#include "common/clock.h"
#include "common/context.h"

namespace slipway::agent {

struct AgentOptions {
  std::string context_path;   // "" to look in the usual places
  std::string state_dir = "/var/lib/slipway-agent";
  LinkTiming timing;
};

// Finds the contextualization: the file given, else /etc/slipway/context,
// else slipway.* words on /proc/cmdline.
Result<Contextualization> find_contextualization(const std::string& path);

class Agent {
 public:
  Agent(AgentOptions options, Contextualization context);
  ~Agent();

  // Runs until SIGTERM or SIGINT.
  Status run();

 private:
  void on_welcome(const proto::Welcome& welcome);
  void on_message(proto::ControllerMessage&& message);
  Status watch_signals();
  void on_signal();

  AgentOptions options_;
  Contextualization context_;
  SystemClock clock_;
  EventLoop loop_{clock_};
  zmq::context_t zmq_{1};
  std::unique_ptr<ControllerLink> link_;
  int signal_fd_ = -1;
};

}  // namespace slipway::agent
