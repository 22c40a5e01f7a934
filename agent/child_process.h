// Child processes of the agent: fork/exec with pipes, each child the leader
// of its own process group (so a whole script tree can be stopped at once),
// stdin on /dev/null, a clean signal mask, and no inherited descriptors.
//
// ChildReaper collects exit statuses. As PID 1 of a machine the agent also
// inherits orphans, so reap() waits for any child and hands each status to
// whoever registered that pid; statuses of unknown pids are dropped.
//
// Thread safety: spawn() and the helpers are thread-safe (they touch no
// shared state); ChildReaper is not thread-safe (it runs on the agent's
// EventLoop).
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::agent {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is a path, or a name looked up in env's PATH
  std::vector<std::string> env;   // "NAME=VALUE" entries: the child's whole environment
  std::string cwd = "/";
  bool merge_output = false;  // stderr goes into the stdout pipe; err_fd is -1
};

struct Child {
  pid_t pid = -1;   // also the process group id
  int out_fd = -1;  // read ends, non-blocking and close-on-exec; the caller closes them
  int err_fd = -1;
};

// Starts a child. Fails with kNotFound when argv[0] cannot be found and with
// kIo when it cannot be executed (the child is reaped before returning).
Result<Child> spawn(const SpawnOptions& options);

// Sends `signal` to the whole process group led by `pid`.
void signal_group(pid_t pid, int signal);

// The shell convention: the exit code, or 128 + the signal that killed it.
int exit_code_of(int wait_status);

// The absolute path of `name` on the colon-separated `path`; `name` itself
// when it contains a slash; "" when it is not found.
std::string find_executable(const std::string& name, const std::string& path);

// Appends what `fd` (non-blocking) holds now to `out`, reading at most
// `max` bytes. Returns false once the writers are gone (end of file) or on a
// read error; true when the pipe is merely empty for now.
bool read_available(int fd, std::string& out, size_t max);

// The value of NAME in a "NAME=VALUE" list, or "" when absent.
std::string env_value(const std::vector<std::string>& env, const std::string& name);

class ChildReaper {
 public:
  using OnExit = std::function<void(int wait_status)>;

  // `on_exit` is called from reap() once `pid` has exited.
  void adopt(pid_t pid, OnExit on_exit);
  void forget(pid_t pid) { children_.erase(pid); }
  bool owns(pid_t pid) const { return children_.count(pid) != 0; }

  // Waits for every exited child (waitpid(-1, WNOHANG) until none is left)
  // and dispatches the statuses. Call it on SIGCHLD.
  void reap();

 private:
  std::map<pid_t, OnExit> children_;
};

}  // namespace slipway::agent
