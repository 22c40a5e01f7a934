// Naming one process for sure: a pid and its start time together. Pids are
// reused; the pair is not. Header-only, so the local cloud's launcher (a
// program of its own) shares it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace slipway::connectors {

// The start time of a process (field 22 of /proc/PID/stat, clock ticks since
// boot) and its state letter; 0 and '?' when there is no such process.
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

}  // namespace slipway::connectors
