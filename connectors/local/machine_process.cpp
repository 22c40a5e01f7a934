#include "connectors/local/machine_process.h"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "common/fs.h"
#include "common/version.h"
#include "connectors/common/command.h"
#include "connectors/common/pidfd.h"
#include "connectors/local/launch_protocol.h"

namespace slipway::connectors::local {
namespace {

// Longer than any sane setup; a launcher past it is killed, and its
// half-made machine with it (PR_SET_PDEATHSIG).
constexpr std::chrono::seconds kLaunchTimeout{30};

std::string own_directory() {
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return "";
  path[n] = '\0';
  return fs::dirname(path);
}

bool same_namespace(const std::string& link, const struct stat& ns) {
  struct stat st {};
  return ::stat(link.c_str(), &st) == 0 && st.st_dev == ns.st_dev && st.st_ino == ns.st_ino;
}

std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

}  // namespace

Result<std::string> find_launcher() {
  const std::string dir = own_directory();
  std::vector<std::string> candidates;
  if (!dir.empty()) {
    candidates.push_back(dir + "/" + kLauncherName);
    candidates.push_back(dir + "/../connectors/local/" + kLauncherName);
  }
  candidates.push_back(std::string(SLIPWAY_LIBEXEC_DIR) + "/" + kLauncherName);
  for (const auto& candidate : candidates) {
    char resolved[PATH_MAX];
    if (::access(candidate.c_str(), X_OK) == 0 &&
        ::realpath(candidate.c_str(), resolved) != nullptr) {
      return std::string(resolved);
    }
  }
  return Error(Code::kFailedPrecondition, std::string("the local cloud cannot find ") +
                                              kLauncherName + " (looked next to this program, in " +
                                              "the build tree and in " + SLIPWAY_LIBEXEC_DIR + ")");
}

std::vector<std::string> launch_command(const std::string& launcher, const LaunchRequest& args) {
  std::vector<std::string> argv = {launcher,   "--dir",      args.machine_dir,
                                   "--lower",  args.lower,   "--netns",
                                   args.netns, "--hostname", args.hostname};
  for (const auto& layer : args.layers) argv.insert(argv.end(), {"--layer", layer});
  if (!args.address.empty()) {
    argv.insert(argv.end(), {"--address", args.address, "--gateway", args.gateway});
  }
  for (const auto& path : args.hide) argv.insert(argv.end(), {"--hide", path});
  for (const auto& dir : args.cgroups) argv.insert(argv.end(), {"--cgroup", dir});
  if (!args.agent_socket_dir.empty())
    argv.insert(argv.end(), {"--agent-socket-dir", args.agent_socket_dir});
  argv.push_back("--");
  argv.insert(argv.end(), args.command.begin(), args.command.end());
  return argv;
}

Result<MachineProcess> start_machine(const std::string& launcher, const LaunchRequest& args) {
  SLIPWAY_ASSIGN_OR_RETURN(CommandResult result,
                           run_command(launch_command(launcher, args), "", kLaunchTimeout));
  const std::string& out = result.output;
  if (result.status == 0 && out.rfind(kLaunchOk, 0) == 0) {
    char* end = nullptr;
    long pid = std::strtol(out.c_str() + std::strlen(kLaunchOk), &end, 10);
    uint64_t start = std::strtoull(end, nullptr, 10);
    if (pid > 0 && start > 0) return MachineProcess{static_cast<pid_t>(pid), start};
  }
  std::string why = one_line(out);
  if (why.empty())
    why = kLauncherName + std::string(" exited with status ") + std::to_string(result.status);
  return Error(Code::kError, why);
}

bool machine_running(const MachineProcess& process) {
  if (process.pid <= 0) return false;
  ProcessStamp stamp = read_process_stamp(process.pid);
  return stamp.start_time == process.start_time && stamp.state != 'Z' && stamp.state != 'X';
}

Status stop_machine(const MachineProcess& process, std::chrono::milliseconds timeout) {
  if (process.pid <= 0) return ok_status();
  // A pidfd pins the process: once the start time matches, the signal and
  // the wait can only reach that process, even if it exits meanwhile.
  Fd pidfd(pidfd_open(process.pid));
  if (pidfd.fd < 0) {
    if (errno == ESRCH) return ok_status();
    return Error(Code::kIo, "cannot open process " + std::to_string(process.pid) + ": " +
                                std::strerror(errno));
  }
  if (read_process_stamp(process.pid).start_time != process.start_time) {
    return ok_status();  // it is gone, and the pid is someone else's now
  }
  if (!pidfd_kill(pidfd.fd)) {
    return Error(Code::kIo, "cannot kill process " + std::to_string(process.pid) + ": " +
                                std::strerror(errno));
  }
  std::vector<pollfd> fds{{pidfd.fd, POLLIN, 0}};
  if (!wait_exited(fds, timeout)) {
    return Error(Code::kTimeout, "process " + std::to_string(process.pid) +
                                     " did not exit within " +
                                     std::to_string(timeout.count() / 1000) + " s of SIGKILL");
  }
  return ok_status();
}

Status stop_netns_processes(const std::string& netns_path, std::chrono::milliseconds timeout) {
  struct stat ns {};
  if (::stat(netns_path.c_str(), &ns) != 0) return ok_status();
  auto entries = fs::list_dir("/proc");
  if (!entries.ok()) return entries.error();
  std::vector<Fd> pinned;
  for (const auto& name : *entries) {
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string link = "/proc/" + name + "/ns/net";
    if (!same_namespace(link, ns)) continue;
    Fd pidfd(pidfd_open(static_cast<pid_t>(std::atoi(name.c_str()))));
    // Checked again once pinned: the pid may have changed hands in between.
    if (pidfd.fd < 0 || !same_namespace(link, ns)) continue;
    if (pidfd_kill(pidfd.fd)) pinned.push_back(std::move(pidfd));
  }
  std::vector<pollfd> fds;
  for (const auto& p : pinned) fds.push_back({p.fd, POLLIN, 0});
  if (!wait_exited(fds, timeout)) {
    return Error(Code::kTimeout, "processes in " + netns_path + " did not exit within " +
                                     std::to_string(timeout.count() / 1000) + " s of SIGKILL");
  }
  return ok_status();
}

}  // namespace slipway::connectors::local
