// What slipwayd and slipway-local-launch agree on: the launcher's command
// line and its one-line answer. Header-only, so the launcher links nothing of
// Slipway's.
//
//   slipway-local-launch --dir MACHINE_DIR --lower DIR --netns PATH
//                        --hostname NAME [--address A.B.C.D/PREFIX --gateway G]
//                        [--hide PATH]... -- COMMAND [ARG]...
//
// It joins the network namespace at PATH, configures lo and eth0 there,
// starts the machine's PID 1 in new pid, mount, uts and ipc namespaces over
// an overlay of DIR (lower) and MACHINE_DIR/upper, and execs COMMAND in it.
// On standard output it then prints "ok PID START" (the host pid of the
// machine's PID 1 and its start time) and exits 0; or it prints one sentence
// saying what failed, exits non-zero, and leaves no process behind.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace slipway::connectors::local {

inline constexpr const char* kLauncherName = "slipway-local-launch";
inline constexpr const char* kLaunchOk = "ok ";

// The start time of a process (field 22 of /proc/PID/stat, clock ticks since
// boot) and its state letter; 0 and '?' when there is no such process. A pid
// and its start time together name one process: pids are reused, the pair is not.
struct ProcessStamp {
  uint64_t start_time = 0;
  char state = '?';
};

inline ProcessStamp read_process_stamp(pid_t pid) {
  ProcessStamp stamp;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return stamp;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  // The command name (field 2) is in parentheses and may hold anything.
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr || p[1] != ' ') return stamp;
  stamp.state = p[2];
  // Field 3 is the state; 19 more fields to reach field 22.
  p += 2;
  for (int field = 3; field < 22 && p != nullptr; ++field) {
    p = std::strchr(p, ' ');
    if (p != nullptr) ++p;
  }
  if (p != nullptr) stamp.start_time = std::strtoull(p, nullptr, 10);
  return stamp;
}

}  // namespace slipway::connectors::local
