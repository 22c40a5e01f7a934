#include "connectors/qemu/vm_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/crypto.h"
#include "common/fs.h"
#include "connectors/common/ipv4.h"
#include "connectors/common/machines.h"

namespace slipway::connectors::qemu {

std::string VmRecord::to_text() const {
  return "machine_id=" + machine_id + "\nhostname=" + hostname +
         "\naddress=" + format_ipv4(address) + "\ntap=" + tap + "\npid=" + std::to_string(pid) +
         "\nstart=" + std::to_string(start_time) + "\n";
}

Result<VmRecord> VmRecord::parse(const std::string& text) {
  VmRecord r;
  for (const auto& [key, value] : parse_record_lines(text)) {
    if (key == "machine_id") r.machine_id = value;
    if (key == "hostname") r.hostname = value;
    if (key == "tap") r.tap = value;
    if (key == "pid") r.pid = static_cast<pid_t>(std::strtol(value.c_str(), nullptr, 10));
    if (key == "start") r.start_time = std::strtoull(value.c_str(), nullptr, 10);
    if (key == "address") {
      auto address = parse_ipv4(value);
      if (!address.ok()) return Error(Code::kInvalidArgument, "the record has a bad address");
      r.address = *address;
    }
  }
  if (r.machine_id.empty() || r.address == 0 || !is_tap_name(r.tap)) {
    return Error(Code::kInvalidArgument, "the record is incomplete");
  }
  return r;
}

std::string tap_name(const std::string& bridge, const std::string& machine_id) {
  return "slq" + crypto::digest_hex(bridge + "." + machine_id).substr(0, 12);
}

bool is_tap_name(const std::string& name) {
  return name.size() == 15 && name.compare(0, 3, "slq") == 0 &&
         name.find_first_not_of("0123456789abcdef", 3) == std::string::npos;
}

Result<std::vector<std::string>> VmDir::list(const std::string& state_dir) {
  return list_machine_dirs(machines_root(state_dir));
}

bool VmDir::exists() const {
  return fs::exists(path_);
}

Status VmDir::create() const {
  SLIPWAY_RETURN_IF_ERROR(create_machine_dir(path_, id_));
  return ok_status();
}

Status VmDir::write_record(const VmRecord& record) const {
  return fs::write_file_atomic(file(kRecordFile), record.to_text(), 0600);
}

Result<VmRecord> VmDir::read_record() const {
  SLIPWAY_ASSIGN_OR_RETURN(std::string text, fs::read_file(file(kRecordFile), 64 * 1024));
  auto record = VmRecord::parse(text);
  if (!record.ok()) return record.error().wrap(file(kRecordFile));
  return record;
}

Status VmDir::remove() const {
  return fs::remove_tree(path_);
}

}  // namespace slipway::connectors::qemu
