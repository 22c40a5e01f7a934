// Child processes for integration tests: spawned with their output in a log
// file, killed and reaped when the test ends.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace slipway::test {

class Process {
 public:
  Process() = default;
  // Starts argv[0] with stdout and stderr appended to `log_path`.
  Process(const std::vector<std::string>& argv, const std::string& log_path,
          const std::vector<std::string>& extra_env = {});
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig);
  // Waits up to `timeout_ms` for the process to exit; returns its exit status
  // (128+signal when killed), or -1 when it is still running.
  int wait(int timeout_ms);
  // SIGKILL and reap.
  void kill();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// The result of running a command to completion.
struct Output {
  int status = -1;
  std::string out;
  std::string err;
};
Output run(const std::vector<std::string>& argv, const std::string& input = "",
           int timeout_ms = 60000);
// The same as user `uid` with group `gid` and no other (needs root).
Output run_as(uid_t uid, gid_t gid, const std::vector<std::string>& argv, int timeout_ms = 60000);

// Polls `condition` every 20 ms until it holds or `timeout_ms` passes.
bool eventually(const std::function<bool()>& condition, int timeout_ms);

std::string read_text(const std::string& path);

}  // namespace slipway::test
