#include "connectors/qemu/qemu_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/fs.h"
#include "connectors/common/command.h"
#include "connectors/common/machines.h"
#include "connectors/common/pidfd.h"
#include "connectors/common/process_stamp.h"
#include "connectors/qemu/qmp.h"
#include "connectors/qemu/vm_dir.h"

namespace slipway::connectors::qemu {
namespace {

constexpr size_t kLogTail = 16 << 10;
constexpr size_t kMaxReason = 600;

// Reaps the pidfd's process if it is our child and has exited; its exit
// status (128 + signal when killed), or -1 when there was nothing to reap.
int reap(int pidfd) {
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | WNOHANG) != 0) return -1;
  if (info.si_pid == 0) return -1;
  return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

// A pidfd on the process, or -1 when it is gone or the pid is someone
// else's now. Once open, the pidfd can only reach that process.
int pin(const VmProcess& process) {
  if (process.pid <= 0) return -1;
  int pidfd = pidfd_open(process.pid);
  if (pidfd < 0) return -1;
  if (read_process_stamp(process.pid).start_time != process.start_time) {
    ::close(pidfd);
    return -1;
  }
  return pidfd;
}

// The last `lines` non-empty lines of a log, joined with " / ".
std::string last_lines(const std::string& path, int lines) {
  auto text = read_tail(path, kLogTail);
  if (!text.ok()) return "";
  std::string out;
  size_t end = text->size();
  for (int taken = 0; taken < lines && end > 0;) {
    size_t start = text->rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = text->substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    end = start > 0 ? start - 1 : 0;
    if (line.empty()) continue;
    out = out.empty() ? line : line + " / " + out;
    ++taken;
    if (start == 0) break;
  }
  if (out.size() > kMaxReason) out = "..." + out.substr(out.size() - kMaxReason);
  return out;
}

std::string last_words(const std::string& dir) {
  const std::string words = last_lines(dir + "/" + kQemuLog, 3);
  const std::string console = last_lines(dir + "/" + kConsoleLog, 2);
  if (console.empty()) return words.empty() ? "it said nothing" : words;
  if (words.empty()) return "its console ends: " + console;
  return words + " (its console ends: " + console + ")";
}

}  // namespace

std::vector<std::string> qemu_arguments(const QemuLaunch& launch) {
  std::vector<std::string> args = {
      launch.qemu,
      "-name",
      "guest=" + launch.machine_id,
      "-machine",
      "q35",
      "-accel",
      launch.kvm ? "kvm" : "tcg",
      "-cpu",
      launch.kvm ? "host" : "max",
      "-smp",
      std::to_string(launch.cpus),
      "-m",
      std::to_string(launch.memory_mb),
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-vga",
      "none",
      "-no-reboot",
      // A guest that escapes into qemu still cannot start programs, gain
      // privileges or use obsolete system calls.
      "-sandbox",
      "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
      "-serial",
      std::string("file:") + kConsoleLog,
      "-qmp",
      std::string("unix:") + kQmpSocket + ",server=on,wait=off",
      "-kernel",
      launch.files.kernel,
  };
  if (!launch.files.initrd.empty()) args.insert(args.end(), {"-initrd", launch.files.initrd});
  args.insert(args.end(), {"-append", launch.command_line});
  args.insert(args.end(),
              {"-netdev", "tap,id=net0,ifname=" + launch.tap + ",script=no,downscript=no",
               "-device", "virtio-net-pci,netdev=net0,mac=" + launch.mac + ",romfile="});
  if (launch.disk_overlay) {
    args.insert(args.end(),
                {"-drive", std::string("file=") + kDiskOverlay + ",if=none,id=disk0,format=qcow2",
                 "-device", "virtio-blk-pci,drive=disk0"});
  }
  args.insert(
      args.end(),
      {"-drive", std::string("file=") + kSeedIso + ",if=none,id=seed,format=raw,readonly=on",
       "-device", "virtio-blk-pci,drive=seed"});
  return args;
}

Result<VmProcess> spawn_qemu(const QemuLaunch& launch) {
  const std::string log = launch.dir + "/" + kQemuLog;
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&setup.actions, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
  posix_spawn_file_actions_adddup2(&setup.actions, 1, 2);
  posix_spawn_file_actions_addchdir_np(&setup.actions, launch.dir.c_str());
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &all);
  // Its own session: a terminal's ^C to slipwayd does not reach machines.
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);

  SLIPWAY_ASSIGN_OR_RETURN(pid_t pid, spawn_program(qemu_arguments(launch), setup));
  // A zombie still has its start time: this cannot miss, even if qemu died already.
  return VmProcess{pid, read_process_stamp(pid).start_time};
}

Status wait_until_running(const VmProcess& process, const std::string& dir,
                          std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Fd pidfd(pin(process));
  if (pidfd.fd < 0) return Error(Code::kError, "qemu exited at once: " + last_words(dir));
  auto exited = [&]() -> std::optional<Error> {
    if (!wait_exited(pidfd.fd, std::chrono::milliseconds(0))) return std::nullopt;
    int status = reap(pidfd.fd);
    return Error(Code::kError, "qemu exited before the machine ran" +
                                   (status >= 0 ? " (status " + std::to_string(status) + ")" : "") +
                                   ": " + last_words(dir));
  };
  std::string last_state;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto error = exited()) return *error;
    auto qmp = Qmp::connect(dir, deadline);
    if (qmp.ok()) {
      auto status = qmp->execute("query-status", deadline);
      if (status.ok() && status->find("\"running\": true") != std::string::npos) return ok_status();
      last_state = status.ok() ? *status : status.error().message();
    } else {
      last_state = qmp.error().message();
    }
    // Not yet listening, or not running yet: a short nap, cut by its exit.
    (void)wait_exited(pidfd.fd, std::chrono::milliseconds(10));
  }
  if (auto error = exited()) return *error;
  return Error(Code::kTimeout, "qemu did not start the machine within " +
                                   std::to_string(timeout.count() / 1000) + " s (" + last_state +
                                   "): " + last_words(dir));
}

bool vm_running(const VmProcess& process) {
  if (process.pid <= 0) return false;
  ProcessStamp stamp = read_process_stamp(process.pid);
  if (stamp.start_time != process.start_time) return false;
  if (stamp.state != 'Z' && stamp.state != 'X') return true;
  Fd pidfd(pin(process));
  if (pidfd.fd >= 0) (void)reap(pidfd.fd);
  return false;
}

Status stop_vm(const VmProcess& process, const std::string& dir, std::chrono::milliseconds grace,
               std::chrono::milliseconds timeout) {
  Fd pidfd(pin(process));
  if (pidfd.fd < 0) return ok_status();  // gone, and the pid may be someone else's now
  if (!wait_exited(pidfd.fd, std::chrono::milliseconds(0))) {
    auto qmp = Qmp::connect(dir, std::chrono::steady_clock::now() + grace);
    if (qmp.ok()) (void)qmp->execute("quit", std::chrono::steady_clock::now() + grace);
    if (!wait_exited(pidfd.fd, grace)) {
      if (!pidfd_kill(pidfd.fd)) {
        return Error(Code::kIo, "cannot kill qemu (pid " + std::to_string(process.pid) +
                                    "): " + std::strerror(errno));
      }
      if (!wait_exited(pidfd.fd, timeout)) {
        return Error(Code::kTimeout, "qemu (pid " + std::to_string(process.pid) +
                                         ") did not exit within " +
                                         std::to_string(timeout.count() / 1000) + " s of SIGKILL");
      }
    }
  }
  (void)reap(pidfd.fd);
  return ok_status();
}

Status stop_qemus_in(const std::string& dir, const std::string& executable,
                     std::chrono::milliseconds timeout) {
  char resolved[PATH_MAX], program[PATH_MAX];
  if (::realpath(dir.c_str(), resolved) == nullptr) return ok_status();  // no one in no directory
  if (::realpath(executable.c_str(), program) == nullptr) return ok_status();
  auto entries = fs::list_dir("/proc");
  if (!entries.ok()) return entries.error();
  auto link_is = [](const std::string& link, const char* target) {
    char text[PATH_MAX];
    ssize_t n = ::readlink(link.c_str(), text, sizeof text - 1);
    if (n <= 0) return false;
    text[n] = '\0';
    return std::strcmp(text, target) == 0;
  };
  // qemu, not an admin's shell that happens to be in the directory.
  auto inside = [&](const std::string& pid) {
    return link_is("/proc/" + pid + "/cwd", resolved) && link_is("/proc/" + pid + "/exe", program);
  };
  std::vector<Fd> pinned;
  for (const auto& name : *entries) {
    if (name.find_first_not_of("0123456789") != std::string::npos || !inside(name)) continue;
    Fd pidfd(pidfd_open(static_cast<pid_t>(std::atoi(name.c_str()))));
    // Checked again once pinned: the pid may have changed hands in between.
    if (pidfd.fd < 0 || !inside(name)) continue;
    if (pidfd_kill(pidfd.fd)) pinned.push_back(std::move(pidfd));
  }
  for (const auto& p : pinned) {
    if (!wait_exited(p.fd, timeout)) {
      return Error(Code::kTimeout, "processes in " + dir + " did not exit within " +
                                       std::to_string(timeout.count() / 1000) + " s of SIGKILL");
    }
    (void)reap(p.fd);
  }
  return ok_status();
}

}  // namespace slipway::connectors::qemu
