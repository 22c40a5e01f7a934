// slipway-agent as an object: reads its contextualization, keeps the link to
// the controller, runs the machine's recipe (Recipe), serves the ss-*
// commands on its local socket (LocalServer, PendingRequests), runs
// `slipway exec` commands (ExecRunner), and (as PID 1 of a machine) reaps
// orphaned processes.
//
// Not thread-safe: everything runs on one EventLoop in run()'s thread.
#pragma once

#include <signal.h>

#include <memory>
#include <string>

#include "agent/child_process.h"
#include "agent/controller_link.h"
#include "agent/event_loop.h"
#include "agent/exec_runner.h"
#include "agent/lingering_pipes.h"
#include "agent/local_server.h"
#include "agent/outbox.h"
#include "agent/pending_requests.h"
#include "agent/recipe.h"
#include "common/clock.h"
#include "common/context.h"

namespace slipway::agent {

struct AgentOptions {
  std::string context_path;    // "" to look in the usual places
  std::string user_data_path;  // NoCloud user-data holding the contextualization
  std::string state_dir = "/var/lib/slipway-agent";
  LinkTiming timing;
};

// The signals the agent takes through its signalfd. They must be blocked
// before any thread exists, so every thread inherits
// the mask: block_agent_signals() first thing in main.
sigset_t agent_signals();
void block_agent_signals();

// Where images put what the machine's boot found.
inline constexpr const char* kContextFile = "/etc/slipway/context";
inline constexpr const char* kSeedUserData = "/run/slipway/seed/user-data";

// Finds the contextualization: the file given, else the NoCloud user-data
// given, else /etc/slipway/context, else a NoCloud seed's user-data mounted
// at /run/slipway/seed, else slipway.* words on /proc/cmdline.
Result<Contextualization> find_contextualization(const std::string& path,
                                                 const std::string& user_data_path);

class Agent {
 public:
  Agent(AgentOptions options, Contextualization context);
  ~Agent();

  // Runs until SIGTERM or SIGINT. Fails when the state directory is unusable.
  Status run();

 private:
  void on_welcome(const proto::Welcome& welcome);
  void on_message(proto::ControllerMessage&& message);
  void on_abort_flag(bool aborted, const std::string& reason, bool always);
  bool send_now(const proto::AgentMessage& message);
  void install_links();
  Status watch_signals();
  void on_signal();

  AgentOptions options_;
  Contextualization context_;
  SystemClock clock_;
  EventLoop loop_{clock_};
  std::unique_ptr<ControllerLink> link_;
  int signal_fd_ = -1;
  bool aborted_ = false;

  ChildReaper reaper_;
  LingeringPipes lingering_{loop_};
  Outbox outbox_;
  PendingRequests requests_;
  LocalServer local_server_{loop_, requests_};
  Recipe recipe_;
  ExecRunner exec_;
};

}  // namespace slipway::agent
