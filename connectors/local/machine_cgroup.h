// A local machine's resource limits (the image's `resources`): one control
// group per machine, made with its limits before the machine's PID 1 starts
// and joined by slipway-local-launch first thing, so every process of the
// machine is inside it from the start and stays there.
//
// Memory is always limited. The CPU quota only when the cloud asks for it
// (`cpu-quota: true`): a CPU group per machine puts a scheduling level
// between each machine's threads and everyone else's, and with it a
// 100-instance barrier's release went from at most 17 ms to as much as
// 87 ms (docs/PERFORMANCE.md).
//
// Two layouts of /sys/fs/cgroup are understood:
//   - the unified hierarchy (cgroup v2, Debian 12's default):
//     ROOT/slipway/NAME with memory.max, memory.swap.max (and cpu.max), the
//     controllers enabled in ROOT's and ROOT/slipway's cgroup.subtree_control;
//   - the legacy per-controller hierarchies (v1): ROOT/memory/slipway/NAME
//     with memory.limit_in_bytes (and memory.memsw.limit_in_bytes where swap
//     is accounted), and ROOT/cpu/slipway/NAME with cpu.cfs_quota_us.
// NAME is the machine's network namespace name, unique on the host across
// every local cloud. A host without the controllers (a container without
// its own cgroups, say) runs machines without limits; prepare() says so once.
//
// Thread-safe: calls for distinct machines may run at once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace slipway::connectors::local {

struct ResourceLimits {
  int64_t cpus = 1;         // CPU time: this many CPUs' worth per period, if limited
  int64_t memory_mb = 512;  // memory, page cache included, and no swap
};

class CgroupLayout {
 public:
  // What the host at `root` offers for limiting memory, and CPU time too
  // when `cpu`. Never fails: without those controllers, available() is false
  // and why_not() says why.
  static CgroupLayout detect(bool cpu, const std::string& root = "/sys/fs/cgroup");

  bool available() const { return kind_ != Kind::kNone; }
  const std::string& why_not() const { return why_not_; }

  // Makes the machine's group(s) with these limits and returns the
  // directories the launcher joins. On failure removes what it made.
  Result<std::vector<std::string>> create(const std::string& name,
                                          const ResourceLimits& limits) const;

  // Removes the machine's group(s) once its processes have exited, in every
  // hierarchy of the layout. Idempotent: a group that does not exist is fine.
  Status remove(const std::string& name) const;

  // The names of the machine groups that start with `prefix`: how reap()
  // finds a group whose machine is otherwise gone.
  std::vector<std::string> list(const std::string& prefix) const;

 private:
  enum class Kind { kNone, kUnified, kLegacy };

  // The directories holding machine groups, one per hierarchy: those this
  // layout limits with, or `every` one it may have used (cpu-quota can
  // change across a restart).
  std::vector<std::string> parents(bool every = false) const;

  Kind kind_ = Kind::kNone;
  bool cpu_ = false;
  std::string root_;
  std::string why_not_;
};

}  // namespace slipway::connectors::local
