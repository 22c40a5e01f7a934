#include "agent/exec_runner.h"

#include <unistd.h>

#include <csignal>

#include "common/log.h"

namespace slipway::agent {

ExecRunner::~ExecRunner() {
  for (auto& [pid, command] : commands_) {
    loop_.cancel(command.timer);
    signal_group(pid, SIGKILL);
    reaper_.forget(pid);
    if (command.fd >= 0) {
      loop_.unwatch_fd(command.fd);
      ::close(command.fd);
    }
  }
}

void ExecRunner::run(const proto::Exec& exec, const std::vector<std::string>& env) {
  SpawnOptions options;
  options.argv = exec.argv;
  options.env = env;
  options.merge_output = true;
  auto child = spawn(options);
  if (!child.ok()) {
    LOG_WARN("exec %llu: %s", static_cast<unsigned long long>(exec.id),
             child.error().message().c_str());
    int code = child.error().code() == Code::kNotFound ? 127 : 126;
    if (exec.argv.empty()) code = 127;
    send_(proto::ExecResult{exec.id, code, child.error().message() + "\n"});
    return;
  }
  pid_t pid = child->pid;
  LOG_INFO("exec %llu: running %s (pid %d)", static_cast<unsigned long long>(exec.id),
           exec.argv[0].c_str(), static_cast<int>(pid));
  Command& command = commands_[pid];
  command.id = exec.id;
  command.fd = child->out_fd;
  if (exec.timeout_ms > 0) {
    command.timer = loop_.after(exec.timeout_ms, [this, pid] {
      auto it = commands_.find(pid);
      if (it == commands_.end()) return;
      it->second.timer = 0;
      it->second.timed_out = true;
      signal_group(pid, SIGKILL);
    });
  }
  reaper_.adopt(pid, [this, pid](int status) { on_exit(pid, status); });
  loop_.watch_fd(command.fd, POLLIN, [this, pid](short) { on_readable(pid); });
}

void ExecRunner::take(Command& command, const std::string& data) {
  size_t room = kMaxOutput - command.output.size();
  if (data.size() > room) command.truncated = true;
  command.output.append(data, 0, std::min(room, data.size()));
}

void ExecRunner::on_readable(pid_t pid) {
  auto it = commands_.find(pid);
  if (it == commands_.end()) return;
  Command& command = it->second;
  std::string data;
  bool open = read_available(command.fd, data, 256 << 10);
  take(command, data);
  if (!open) {
    loop_.unwatch_fd(command.fd);
    ::close(command.fd);
    command.fd = -1;
  }
}

void ExecRunner::on_exit(pid_t pid, int wait_status) {
  auto it = commands_.find(pid);
  if (it == commands_.end()) return;
  Command command = std::move(it->second);
  commands_.erase(it);
  loop_.cancel(command.timer);
  if (command.fd >= 0) {
    loop_.unwatch_fd(command.fd);
    std::string data;
    bool open = read_available(command.fd, data, kMaxOutput);
    take(command, data);
    if (open) {
      lingering_.adopt(command.fd, nullptr);  // something it started still writes
    } else {
      ::close(command.fd);
    }
  }
  int code = command.timed_out ? kTimeoutExit : exit_code_of(wait_status);
  if (command.truncated) command.output += "\n[output truncated at 1 MiB]\n";
  if (command.timed_out) command.output += "[killed at its timeout]\n";
  LOG_INFO("exec %llu: exit code %d", static_cast<unsigned long long>(command.id), code);
  send_(proto::ExecResult{command.id, code, std::move(command.output)});
}

}  // namespace slipway::agent
