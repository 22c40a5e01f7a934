// Runs one step of the plan at a time: writes its script under
// <state_dir>/scripts, starts it in its own process group with stdin on
// /dev/null, streams stdout and stderr to the controller as `log` chunks
// (coalesced up to 64 KiB or 50 ms, seq counting per stream) and into the
// scripts log, keeps the last non-empty line of stderr, and reports the exit
// code (128+signal when killed) once the script has exited and its output
// has been sent. Processes the script left running keep their output read
// (LingeringPipes) but do not hold the step up.
//
// Not thread-safe: runs on the agent's EventLoop.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "agent/child_process.h"
#include "agent/event_loop.h"
#include "agent/lingering_pipes.h"
#include "agent/scripts_log.h"
#include "common/protocol.h"

namespace slipway::agent {

struct StepOutcome {
  int exit_code = 0;
  std::string error_line;  // the last non-empty line written to stderr
};

class StepRunner {
 public:
  using Send = std::function<void(proto::AgentMessage)>;
  using Done = std::function<void(const StepOutcome&)>;

  static constexpr size_t kChunkBytes = 64 << 10;
  static constexpr int64_t kCoalesceMs = 50;
  static constexpr int64_t kKillGraceMs = 2000;

  StepRunner(EventLoop& loop, ChildReaper& reaper, LingeringPipes& lingering, ScriptsLog& log,
             std::string scripts_dir, Send send);
  ~StepRunner();
  StepRunner(const StepRunner&) = delete;
  StepRunner& operator=(const StepRunner&) = delete;

  // Sends step_started and starts `step`. `done` is called exactly once, from
  // the loop (never from inside start()), after the step's last log chunk.
  void start(const proto::Step& step, const std::string& platform,
             const std::vector<std::string>& env, Done done);
  bool busy() const { return busy_; }
  const proto::Step& current() const { return step_; }

  // Stops the running step: SIGTERM to its process group, SIGKILL to the
  // group kKillGraceMs later. Does nothing when idle.
  void stop();

 private:
  struct Stream {
    int64_t number = proto::kStdout;
    int fd = -1;
    std::string pending;  // read but not yet sent
    uint64_t seq = 0;
  };

  void finish_early(int exit_code, const std::string& error_line);
  void on_readable(Stream& stream);
  void take(Stream& stream, std::string_view data);
  void flush(Stream& stream);
  void flush_all();
  void note_stderr(std::string_view data);
  void on_exit(int wait_status);
  void close_stream(Stream& stream, bool linger);

  EventLoop& loop_;
  ChildReaper& reaper_;
  LingeringPipes& lingering_;
  ScriptsLog& log_;
  std::string scripts_dir_;
  Send send_;

  bool busy_ = false;
  proto::Step step_;
  Done done_;
  pid_t pid_ = -1;
  Stream out_;
  Stream err_;
  std::string stderr_line_;  // the line being written
  std::string last_line_;    // the last complete non-empty one
  uint64_t flush_timer_ = 0;
  uint64_t early_timer_ = 0;
  pid_t stopped_pid_ = -1;
};

}  // namespace slipway::agent
