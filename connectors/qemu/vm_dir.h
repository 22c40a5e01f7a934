// A qemu machine's directory under the cloud's state directory, and the
// record in it that lets any later slipwayd find everything the machine uses:
//
//   STATE_DIR/machines/MACHINE_ID/     mode 0700; qemu's working directory
//     record        key=value lines: address, tap, hostname, pid, start
//     console.log   the serial console (ttyS0)
//     qemu.log      qemu's own standard output and error
//     qmp.sock      QMP, how terminate asks qemu to quit
//     seed.iso      the NoCloud seed (user-data holds the instance's secret key)
//     disk.qcow2    the machine's disk, over the image's, when it has one
//
// qemu runs with this directory as its working directory and is given only
// relative paths in it: a Unix socket path stops at 108 bytes, and a machine
// whose record lost its pid is still found by its working directory.
//
// The tap is named after the bridge and the machine id ("slq" and 12 hex
// digits of a digest), so reap() finds it even when the directory is gone.
//
// Plain functions over the file system: thread-safe for distinct machines.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/common/machines.h"

namespace slipway::connectors::qemu {

// pid and start_time are qemu's.
struct VmRecord : MachineRecordBase {
  std::string tap;

  std::string to_text() const;
  static Result<VmRecord> parse(const std::string& text);
};

// "slq" + 12 hex digits: the tap of machine `machine_id` on `bridge`.
std::string tap_name(const std::string& bridge, const std::string& machine_id);
// True for names tap_name() makes.
bool is_tap_name(const std::string& name);

// The files of a machine directory, as qemu is given them.
inline constexpr const char* kRecordFile = "record";
inline constexpr const char* kConsoleLog = "console.log";
inline constexpr const char* kQemuLog = "qemu.log";
inline constexpr const char* kQmpSocket = "qmp.sock";
inline constexpr const char* kSeedIso = "seed.iso";
inline constexpr const char* kDiskOverlay = "disk.qcow2";

class VmDir {
 public:
  VmDir(const std::string& state_dir, const std::string& machine_id)
      : id_(machine_id), path_(machines_root(state_dir) + "/" + machine_id) {}

  static std::string machines_root(const std::string& state_dir) { return state_dir + "/machines"; }
  // Ids of every machine directory of the cloud.
  static Result<std::vector<std::string>> list(const std::string& state_dir);

  const std::string& path() const { return path_; }
  std::string file(const char* name) const { return path_ + "/" + name; }
  std::string console_log() const { return file(kConsoleLog); }

  bool exists() const;
  // Creates the directory, mode 0700. kAlreadyExists if it exists.
  Status create() const;
  Status write_record(const VmRecord& record) const;
  Result<VmRecord> read_record() const;
  Status remove() const;

 private:
  std::string id_;
  std::string path_;
};

}  // namespace slipway::connectors::qemu
