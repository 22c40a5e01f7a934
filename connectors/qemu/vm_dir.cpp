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
  return record_text({{"tap", tap}});
}

Result<VmRecord> VmRecord::parse(const std::string& text) {
  VmRecord r;
  SLIPWAY_ASSIGN_OR_RETURN(auto fields, r.parse_base(text));
  r.tap = fields["tap"];
  if (!is_tap_name(r.tap)) return Error(Code::kInvalidArgument, "the record is incomplete");
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
