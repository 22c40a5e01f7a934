#include "connectors/local/machine_dir.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/crypto.h"
#include "common/fs.h"

namespace slipway::connectors::local {

std::string MachineRecord::to_text() const {
  return "machine_id=" + machine_id + "\nhostname=" + hostname +
         "\naddress=" + format_ipv4(address) + "\nnetns=" + netns + "\nveth=" + veth +
         "\npid=" + std::to_string(pid) + "\nstart=" + std::to_string(start_time) + "\n";
}

Result<MachineRecord> MachineRecord::parse(const std::string& text) {
  MachineRecord r;
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
    if (key == "netns") r.netns = value;
    if (key == "veth") r.veth = value;
    if (key == "pid") r.pid = static_cast<pid_t>(std::strtol(value.c_str(), nullptr, 10));
    if (key == "start") r.start_time = std::strtoull(value.c_str(), nullptr, 10);
    if (key == "address") {
      auto address = parse_ipv4(value);
      if (!address.ok()) return Error(Code::kInvalidArgument, "the record has a bad address");
      r.address = *address;
    }
  }
  if (r.machine_id.empty() || r.address == 0 || r.netns.empty() || r.veth.empty()) {
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

bool MachineDir::exists() const {
  return fs::exists(path_);
}

Status MachineDir::create() const {
  SLIPWAY_RETURN_IF_ERROR(fs::make_dirs(fs::dirname(path_), 0700));
  if (::mkdir(path_.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return Error(Code::kAlreadyExists, "machine " + id_ + " already exists on this cloud");
    }
    return Error(Code::kIo, "cannot create " + path_ + ": " + std::strerror(errno));
  }
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
