// A local machine's directory under the cloud's state directory, and the
// record in it that lets any later slipwayd find everything the machine uses:
//
//   STATE_DIR/machines/MACHINE_ID/
//     record        key=value lines: address, netns, veth, hostname, pid, start
//     upper/ work/  the overlay's writable layer and its work directory
//     merged/       the overlay's mount point (mounted only inside the machine)
//     console.log   the machine's standard output and error
//
// The network namespace and the host side of the veth pair are named after
// the bridge and the machine id, so reap() can find them even when the
// directory is gone: netns "slw-BRIDGE.MACHINE_ID", veth "slw" + 12 hex digits
// of a digest of the netns name (interface names stop at 15 characters).
//
// Plain functions over the file system: thread-safe for distinct machines.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/common/ipv4.h"
#include "connectors/common/machines.h"

namespace slipway::connectors::local {

// pid and start_time are those of the machine's PID 1.
struct MachineRecord : MachineRecordBase {
  std::string netns;
  std::string veth;

  std::string to_text() const;
  static Result<MachineRecord> parse(const std::string& text);
};

// "slw-BRIDGE." : the prefix of every netns of the cloud on `bridge`.
std::string netns_prefix(const std::string& bridge);
std::string netns_name(const std::string& bridge, const std::string& machine_id);
std::string veth_name(const std::string& netns);

class MachineDir {
 public:
  MachineDir(const std::string& state_dir, const std::string& machine_id)
      : id_(machine_id), path_(machines_root(state_dir) + "/" + machine_id) {}

  static std::string machines_root(const std::string& state_dir) { return state_dir + "/machines"; }
  // Ids of every machine directory of the cloud.
  static Result<std::vector<std::string>> list(const std::string& state_dir);

  const std::string& id() const { return id_; }
  const std::string& path() const { return path_; }
  std::string record_path() const { return path_ + "/record"; }
  std::string upper() const { return path_ + "/upper"; }
  std::string work() const { return path_ + "/work"; }
  std::string merged() const { return path_ + "/merged"; }
  std::string console_log() const { return path_ + "/console.log"; }

  bool exists() const;
  // Creates the directory (mode 0700: the upper layer holds the machine's
  // secret key) with work/ and merged/, and upper/ mode 0755 (it is the
  // machine's root directory). Fails with kAlreadyExists if it exists.
  Status create() const;
  Status write_record(const MachineRecord& record) const;
  Result<MachineRecord> read_record() const;
  Status remove() const;

 private:
  std::string id_;
  std::string path_;
};

}  // namespace slipway::connectors::local
