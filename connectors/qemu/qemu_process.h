// A machine's qemu process: its command line, its start, knowing when the
// machine runs, and its end.
//
// qemu is started with posix_spawn (no code of ours between fork and exec)
// as a child of slipwayd, never with -daemonize: a daemonized qemu becomes a
// child of the host's PID 1, which may leave it a zombie for seconds. It runs
// in its own session, in the machine's directory, with relative paths only
// (vm_dir.h), its output in qemu.log. It is not tied to slipwayd's life:
// machines keep running across a restart of the controller, and a later
// slipwayd knows each by its pid and start time (process_stamp.h), and finds
// one whose pid was never recorded by its working directory.
//
// Thread-safe: every function may run for distinct machines at once.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/qemu/boot_media.h"

namespace slipway::connectors::qemu {

struct QemuLaunch {
  std::string qemu;  // the binary, absolute
  std::string dir;   // the machine's directory: qemu's working directory
  std::string machine_id;
  bool kvm = false;
  int64_t cpus = 1;
  int64_t memory_mb = 128;
  BootFiles files;
  bool disk_overlay = false;  // DIR/disk.qcow2 is the machine's first disk
  std::string command_line;   // the kernel's
  std::string tap;
  std::string mac;
};

// qemu's arguments (argv[0] included): a q35 machine with no default
// devices, no display, the serial console into console.log, QMP on
// qmp.sock, the kernel booted directly, a virtio NIC on the tap, the disk
// overlay (first, so it is /dev/vda) and the seed as virtio disks.
std::vector<std::string> qemu_arguments(const QemuLaunch& launch);

struct VmProcess {
  pid_t pid = 0;
  uint64_t start_time = 0;
};

// Starts qemu. It is running (maybe not for long) when this returns.
Result<VmProcess> spawn_qemu(const QemuLaunch& launch);

// Waits until qemu says over QMP that the machine runs. When qemu exits
// first (a kernel it cannot load, a device it refuses) or does not get there
// by `timeout`, the error is one sentence with the last words of qemu.log
// and console.log; qemu is then reaped or still to be stopped by the caller.
Status wait_until_running(const VmProcess& process, const std::string& dir,
                          std::chrono::milliseconds timeout);

// True while the process is alive and still the qemu that was started. A
// qemu of ours that exited is reaped here.
bool vm_running(const VmProcess& process);

// Asks qemu to quit over QMP (the machine stops at once, qemu flushes its
// logs), SIGKILLs it when it has not exited after `grace`, waits until it has
// and reaps it when it is our child. Ok when it is already gone.
Status stop_vm(const VmProcess& process, const std::string& dir, std::chrono::milliseconds grace,
               std::chrono::milliseconds timeout);

// SIGKILLs every process of `executable` (qemu) whose working directory is
// `dir`, waits until they have exited and reaps those that are our children:
// what stops a qemu whose pid never reached the record.
Status stop_qemus_in(const std::string& dir, const std::string& executable,
                     std::chrono::milliseconds timeout);

}  // namespace slipway::connectors::qemu
