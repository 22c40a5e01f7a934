// `slipway exec` on this machine: runs the controller's `exec` commands, any
// number at once, each in its own process group with stdin on /dev/null and
// stdout and stderr captured together (at most kMaxOutput bytes kept), and
// answers each with `exec_result`. At its timeout a command's whole group is
// killed and its exit code is 124, as timeout(1) says.
//
// Not thread-safe: runs on the agent's EventLoop.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/child_process.h"
#include "agent/event_loop.h"
#include "agent/lingering_pipes.h"
#include "common/protocol.h"

namespace slipway::agent {

class ExecRunner {
 public:
  using Send = std::function<void(proto::AgentMessage)>;

  static constexpr size_t kMaxOutput = 1 << 20;
  static constexpr int kTimeoutExit = 124;

  ExecRunner(EventLoop& loop, ChildReaper& reaper, LingeringPipes& lingering, Send send)
      : loop_(loop), reaper_(reaper), lingering_(lingering), send_(std::move(send)) {}
  ~ExecRunner();
  ExecRunner(const ExecRunner&) = delete;
  ExecRunner& operator=(const ExecRunner&) = delete;

  // Runs `exec.argv` with environment `env`; its exec_result is sent later
  // (also when it cannot start: exit code 127 and why as output).
  void run(const proto::Exec& exec, const std::vector<std::string>& env);
  size_t running() const { return commands_.size(); }

 private:
  struct Command {
    uint64_t id = 0;
    int fd = -1;
    std::string output;
    bool truncated = false;
    bool timed_out = false;
    uint64_t timer = 0;
  };

  void on_readable(pid_t pid);
  void take(Command& command, const std::string& data);
  void on_exit(pid_t pid, int wait_status);

  EventLoop& loop_;
  ChildReaper& reaper_;
  LingeringPipes& lingering_;
  Send send_;
  std::map<pid_t, Command> commands_;
};

}  // namespace slipway::agent
