// Process file descriptors: waiting for and killing one process for sure,
// whatever later reuses its pid. Header-only, shared by the connectors that
// run processes of their own (local's launcher, qemu).
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <vector>

#include "common/fs.h"

namespace slipway::connectors {

using fs::Fd;

inline int pidfd_open(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// SIGKILL to the pidfd's process; true when sent or when it is gone already.
inline bool pidfd_kill(int pidfd) {
  return ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) == 0 || errno == ESRCH;
}

// Waits until every pidfd of `fds` is readable (its process has exited), or
// `timeout` passes; looks at least once. Those that exited get fd -1.
inline bool wait_exited(std::vector<pollfd>& fds, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto all_exited = [&] {
    return std::all_of(fds.begin(), fds.end(), [](const pollfd& p) { return p.fd < 0; });
  };
  while (!all_exited()) {
    auto left = std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                         deadline - std::chrono::steady_clock::now())
                                         .count());
    for (auto& p : fds) p.revents = 0;
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(left));
    if (n < 0 && errno != EINTR) return false;
    for (auto& p : fds) {
      if (p.fd >= 0 && p.revents != 0) p.fd = -1;  // poll skips negative descriptors
    }
    if (left == 0 && !all_exited()) return false;
  }
  return true;
}

inline bool wait_exited(int pidfd, std::chrono::milliseconds timeout) {
  std::vector<pollfd> fds{pollfd{pidfd, POLLIN, 0}};
  return wait_exited(fds, timeout);
}

}  // namespace slipway::connectors
