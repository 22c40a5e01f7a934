#include "support/process.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace slipway::test {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::vector<char*> c_args(std::vector<std::string>& args) {
  std::vector<char*> out;
  for (auto& a : args) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

// In a forked child: clears the signal mask the test runner may have, and
// execs; never returns.
[[noreturn]] void exec_child(std::vector<std::string>& args) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  auto cargs = c_args(args);
  ::execv(cargs[0], cargs.data());
  std::fprintf(stderr, "exec %s: %s\n", cargs[0], std::strerror(errno));
  ::_exit(127);
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Process::Process(const std::vector<std::string>& argv, const std::string& log_path,
                 const std::vector<std::string>& extra_env) {
  std::vector<std::string> args = argv;
  std::vector<std::string> env_strings = extra_env;
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::setpgid(0, 0);
    // A test runner that dies without its destructors (a crash, SIGPIPE from
    // `| head`) takes the program with it rather than leave it running.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    for (auto& e : env_strings) ::putenv(e.data());
    exec_child(args);
  }
}

Process::~Process() {
  kill();
}

Process::Process(Process&& other) noexcept : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    kill();
    pid_ = other.pid_;
    status_ = other.status_;
    other.pid_ = -1;
  }
  return *this;
}

bool Process::running() {
  return pid_ > 0 && wait(0) == -1;
}

void Process::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int Process::wait(int timeout_ms) {
  if (pid_ <= 0) return status_;
  int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = decode_status(status);
      pid_ = -1;
      return status_;
    }
    if (now_ms() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Process::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  status_ = decode_status(status);
  pid_ = -1;
}

namespace {

struct Identity {
  uid_t uid;
  gid_t gid;
};

Output run_with(const std::optional<Identity>& as, const std::vector<std::string>& argv,
                const std::string& input, int timeout_ms) {
  int in[2], out[2], err[2];
  if (::pipe(in) != 0 || ::pipe(out) != 0 || ::pipe(err) != 0) return {};
  std::vector<std::string> args = argv;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) ::close(fd);
    if (as && (::setgroups(1, &as->gid) != 0 || ::setresgid(as->gid, as->gid, as->gid) != 0 ||
               ::setresuid(as->uid, as->uid, as->uid) != 0)) {
      ::_exit(126);
    }
    exec_child(args);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!input.empty()) {
    ssize_t ignored = ::write(in[1], input.data(), input.size());
    (void)ignored;
  }
  ::close(in[1]);
  Output result;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  int64_t deadline = now_ms() + timeout_ms;
  while (open_fds > 0 && now_ms() < deadline) {
    if (::poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(n));
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  if (open_fds > 0) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.status = decode_status(status);
  return result;
}

}  // namespace

Output run(const std::vector<std::string>& argv, const std::string& input, int timeout_ms) {
  return run_with(std::nullopt, argv, input, timeout_ms);
}

Output run_as(uid_t uid, gid_t gid, const std::vector<std::string>& argv, int timeout_ms) {
  return run_with(Identity{uid, gid}, argv, "", timeout_ms);
}

bool eventually(const std::function<bool()>& condition, int timeout_ms) {
  int64_t deadline = now_ms() + timeout_ms;
  for (;;) {
    if (condition()) return true;
    if (now_ms() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace slipway::test
