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
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
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
  std::string root = machines_root(state_dir);
  if (!fs::exists(root)) return std::vector<std::string>{};
  SLIPWAY_ASSIGN_OR_RETURN(auto names, fs::list_dir(root));
  std::vector<std::string> ids;
  for (auto& name : names) {
    // Skips what is not a machine (write_file_atomic's leftovers, stray files).
    if (check_machine_id(name).ok() && fs::exists(root + "/" + name + "/.")) ids.push_back(name);
  }
  return ids;
}

bool VmDir::exists() const {
  return fs::exists(path_);
}

Status VmDir::create() const {
  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(fs::dirname(path_), 0700));
  if (::mkdir(path_.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return Error(Code::kAlreadyExists, "machine " + id_ + " already exists on this cloud");
    }
    return Error(Code::kIo, "cannot create " + path_ + ": " + std::strerror(errno));
  }
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
