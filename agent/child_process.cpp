#include "agent/child_process.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace slipway::agent {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Everything below runs in the forked child of a multi-threaded process:
// async-signal-safe calls only, no allocation.
[[noreturn]] void child_fail(int status_fd, int error) {
  ssize_t ignored = ::write(status_fd, &error, sizeof error);
  (void)ignored;
  ::_exit(127);
}

// Moves `fd` to a number >= 10 so the dup2 calls onto 0..3 cannot clobber it
// (as PID 1 the agent may start with 0, 1 and 2 closed, so pipes may get them).
int lift(int fd) {
  return fd < 0 ? -1 : ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
}

[[noreturn]] void run_child(const char* path, char* const* argv, char* const* envp, const char* cwd,
                            int out_w, int err_w, int status_w) {
  status_w = lift(status_w);
  if (status_w < 0) ::_exit(127);
  out_w = lift(out_w);
  err_w = lift(err_w);
  int null_fd = lift(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (out_w < 0 || null_fd < 0) child_fail(status_w, errno);

  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGPIPE, SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD}) ::signal(sig, SIG_DFL);

  if (::dup2(null_fd, 0) < 0 || ::dup2(out_w, 1) < 0 || ::dup2(err_w >= 0 ? err_w : out_w, 2) < 0 ||
      ::dup2(status_w, 3) < 0 || ::fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
    child_fail(status_w, errno);
  }
  status_w = 3;
  if (::syscall(SYS_close_range, 4U, ~0U, 0U) != 0) {
    for (int fd = 4; fd < 65536; ++fd) ::close(fd);
  }
  if (::chdir(cwd) != 0) child_fail(status_w, errno);
  ::execve(path, argv, envp);
  child_fail(status_w, errno);
}

}  // namespace

bool read_available(int fd, std::string& out, size_t max) {
  char buffer[16384];
  size_t total = 0;
  while (total < max) {
    size_t want = std::min(sizeof buffer, max - total);
    ssize_t n = ::read(fd, buffer, want);
    if (n > 0) {
      out.append(buffer, static_cast<size_t>(n));
      total += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
  return true;
}

std::string env_value(const std::vector<std::string>& env, const std::string& name) {
  for (const auto& entry : env) {
    if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
        entry[name.size()] == '=') {
      return entry.substr(name.size() + 1);
    }
  }
  return "";
}

std::string find_executable(const std::string& name, const std::string& path) {
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return name;
  std::string dirs = path.empty() ? kDefaultPath : path;
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return "";
}

Result<Child> spawn(const SpawnOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return Error(Code::kInvalidArgument, "empty command");
  }
  std::string path = find_executable(options.argv[0], env_value(options.env, "PATH"));
  if (path.empty()) return Error(Code::kNotFound, options.argv[0] + ": command not found");

  // Built before fork: the child may not allocate.
  std::vector<char*> argv;
  for (const auto& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& entry : options.env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  int out[2] = {-1, -1}, err[2] = {-1, -1}, status[2] = {-1, -1};
  auto cleanup = [&] {
    for (int* fd : {&out[0], &out[1], &err[0], &err[1], &status[0], &status[1]}) close_fd(*fd);
  };
  if (::pipe2(out, O_CLOEXEC) != 0 || (!options.merge_output && ::pipe2(err, O_CLOEXEC) != 0) ||
      ::pipe2(status, O_CLOEXEC) != 0) {
    Error error(Code::kIo, std::string("cannot make a pipe: ") + std::strerror(errno));
    cleanup();
    return error;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    Error error(Code::kIo, std::string("cannot fork: ") + std::strerror(errno));
    cleanup();
    return error;
  }
  if (pid == 0) {
    run_child(path.c_str(), argv.data(), envp.data(), options.cwd.c_str(), out[1], err[1],
              status[1]);
  }
  // Also from the parent, so the group exists before anyone signals it.
  ::setpgid(pid, pid);
  close_fd(out[1]);
  close_fd(err[1]);
  close_fd(status[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(status[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  close_fd(status[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int ignored;
    while (::waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    cleanup();
    return Error(child_errno == ENOENT ? Code::kNotFound : Code::kIo,
                 "cannot run " + path + ": " + std::strerror(child_errno));
  }
  for (int fd : {out[0], err[0]}) {
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  return Child{pid, out[0], err[0]};
}

void signal_group(pid_t pid, int signal) {
  if (pid > 0) ::kill(-pid, signal);
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

void ChildReaper::adopt(pid_t pid, OnExit on_exit) {
  children_[pid] = std::move(on_exit);
}

void ChildReaper::reap() {
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) return;
    auto it = children_.find(pid);
    if (it == children_.end()) continue;  // an orphan we inherited as PID 1
    OnExit on_exit = std::move(it->second);
    children_.erase(it);
    on_exit(status);
  }
}

}  // namespace slipway::agent
