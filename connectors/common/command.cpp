#include "connectors/common/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/fs.h"

namespace slipway::connectors {
namespace {

constexpr size_t kMaxOutput = 1 << 20;

using fs::Fd;

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return decode_status(status);
}

int64_t now_ms();

// Waits for the child until `deadline`; kills it then. nullopt on timeout.
std::optional<int> wait_until(pid_t pid, int64_t deadline) {
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return decode_status(status);
    if (done < 0 && errno != EINTR) return -1;
    if (now_ms() >= deadline) {
      ::kill(pid, SIGKILL);
      wait_for(pid);
      return std::nullopt;
    }
    ::usleep(1000);
  }
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<pid_t> spawn_program(const std::vector<std::string>& argv, SpawnSetup& setup) {
  if (argv.empty()) return Error(Code::kInvalidArgument, "nothing to run");
  std::vector<std::string> args = argv;
  std::vector<char*> c_args;
  for (auto& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);
  char path_env[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  char lang_env[] = "LC_ALL=C";
  char* env[] = {path_env, lang_env, nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, c_args[0], &setup.actions, &setup.attr, c_args.data(), env);
  if (rc != 0) return Error(Code::kIo, "cannot run " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

Result<CommandResult> run_command(const std::vector<std::string>& argv, const std::string& input,
                                  std::chrono::milliseconds timeout) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return Error(Code::kInternal, "run_command needs an absolute program path");
  }
  // Standard input is a socket so that feeding a child that exits early
  // fails with EPIPE instead of raising SIGPIPE in slipwayd (MSG_NOSIGNAL).
  int in_pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) {
    return Error(Code::kIo, std::string("cannot make a socket pair: ") + std::strerror(errno));
  }
  Fd in_ours(in_pair[0]), in_theirs(in_pair[1]);
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return Error(Code::kIo, std::string("cannot make a pipe: ") + std::strerror(errno));
  }
  Fd out_ours(out_pipe[0]), out_theirs(out_pipe[1]);

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, in_theirs.fd, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out_theirs.fd, 1);
  posix_spawn_file_actions_adddup2(&setup.actions, out_theirs.fd, 2);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &all);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  SLIPWAY_ASSIGN_OR_RETURN(pid_t pid, spawn_program(argv, setup));
  in_theirs.reset();
  out_theirs.reset();

  size_t sent = 0;
  if (input.empty()) in_ours.reset();
  CommandResult result;
  const int64_t deadline = now_ms() + timeout.count();
  while (out_ours.fd >= 0) {
    pollfd fds[2] = {{out_ours.fd, POLLIN, 0}, {in_ours.fd, POLLOUT, 0}};
    int64_t left = deadline - now_ms();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      wait_for(pid);
      return Error(Code::kTimeout, argv[0] + " did not finish within " +
                                       std::to_string(timeout.count() / 1000) + " s");
    }
    int n = ::poll(fds, in_ours.fd >= 0 ? 2 : 1, static_cast<int>(left));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    if (fds[0].revents != 0) {
      char buf[4096];
      ssize_t got = ::read(out_ours.fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        out_ours.reset();
      } else if (result.output.size() < kMaxOutput) {
        result.output.append(buf, static_cast<size_t>(got));
      }
    }
    if (in_ours.fd >= 0 && fds[1].revents != 0) {
      ssize_t put = ::send(in_ours.fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
      if (put > 0) sent += static_cast<size_t>(put);
      if ((put < 0 && errno != EINTR && errno != EAGAIN) || sent == input.size()) in_ours.reset();
    }
  }
  // Output closed does not mean exited: the wait keeps the same deadline.
  std::optional<int> status = wait_until(pid, deadline);
  if (!status) {
    return Error(Code::kTimeout, argv[0] + " did not finish within " +
                                     std::to_string(timeout.count() / 1000) + " s");
  }
  result.status = *status;
  return result;
}

Status run_checked(const std::vector<std::string>& argv, const std::string& input,
                   std::chrono::milliseconds timeout, const std::string& what) {
  SLIPWAY_ASSIGN_OR_RETURN(CommandResult r, run_command(argv, input, timeout));
  if (r.status == 0) return ok_status();
  std::string output = r.output;
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  for (char& c : output) {
    if (c == '\n') c = ' ';
  }
  if (output.empty()) output = argv[0] + " exited with status " + std::to_string(r.status);
  return Error(Code::kError, what + ": " + output);
}

Result<std::string> find_program(const std::string& name) {
  const char* env_path = std::getenv("PATH");
  std::string search = std::string(env_path != nullptr ? env_path : "") +
                       ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= search.size()) {
    size_t end = search.find(':', start);
    if (end == std::string::npos) end = search.size();
    std::string dir = search.substr(start, end - start);
    if (!dir.empty() && dir[0] == '/') {
      std::string candidate = dir + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return Error(Code::kNotFound, "the program " + name + " is not installed");
}

}  // namespace slipway::connectors
