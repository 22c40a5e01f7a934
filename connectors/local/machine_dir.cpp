#include "connectors/local/machine_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/crypto.h"
#include "common/fs.h"
#include "connectors/common/machines.h"

namespace slipway::connectors::local {

std::string MachineRecord::to_text() const {
  return record_text({{"netns", netns}, {"veth", veth}});
}

Result<MachineRecord> MachineRecord::parse(const std::string& text) {
  MachineRecord r;
  SLIPWAY_ASSIGN_OR_RETURN(auto fields, r.parse_base(text));
  r.netns = fields["netns"];
  r.veth = fields["veth"];
  if (r.netns.empty() || r.veth.empty()) {
    return Error(Code::kInvalidArgument, "the record is incomplete");
  }
  return r;
}

std::string netns_prefix(const std::string& bridge) {
  return "slw-" + bridge + ".";
}

std::string netns_name(const std::string& bridge, const std::string& machine_id) {
  return netns_prefix(bridge) + machine_id;
}

std::string veth_name(const std::string& netns) {
  return "slw" + crypto::digest_hex(netns).substr(0, 12);
}

Result<std::vector<std::string>> MachineDir::list(const std::string& state_dir) {
  return list_machine_dirs(machines_root(state_dir));
}

bool MachineDir::exists() const {
  return fs::exists(path_);
}

Status MachineDir::create() const {
  SLIPWAY_RETURN_IF_ERROR(create_machine_dir(path_, id_));
  for (const auto& [dir, mode] : {std::pair{upper(), 0755}, {work(), 0700}, {merged(), 0755}}) {
    if (::mkdir(dir.c_str(), static_cast<mode_t>(mode)) != 0 ||
        ::chmod(dir.c_str(), static_cast<mode_t>(mode)) != 0) {  // umask
      return Error(Code::kIo, "cannot create " + dir + ": " + std::strerror(errno));
    }
  }
  return ok_status();
}

Status MachineDir::write_record(const MachineRecord& record) const {
  return fs::write_file_atomic(record_path(), record.to_text(), 0600);
}

Result<MachineRecord> MachineDir::read_record() const {
  SLIPWAY_ASSIGN_OR_RETURN(std::string text, fs::read_file(record_path(), 64 * 1024));
  auto record = MachineRecord::parse(text);
  if (!record.ok()) return record.error().wrap(record_path());
  return record;
}

Status MachineDir::remove() const {
  return fs::remove_tree(path_);
}

}  // namespace slipway::connectors::local
