#include "connectors/qemu/settings.h"

namespace slipway::connectors::qemu {

Result<QemuSettings> parse_qemu_settings(const std::string& cloud_name, const Value& settings) {
  const std::string where = "cloud " + cloud_name + ": ";
  QemuSettings out;
  if (!settings.is_null() && !settings.is_object()) {
    return Error(Code::kInvalidArgument, where + "its settings must be a mapping");
  }
  for (const auto& [key, value] : settings.fields()) {
    SLIPWAY_ASSIGN_OR_RETURN(bool known, parse_bridge_setting(where, key, value, &out));
    if (known) continue;
    if (key == "accel") {
      const std::string& accel = value.str();
      if (accel == "auto") {
        out.accel = Accel::kAuto;
      } else if (accel == "tcg") {
        out.accel = Accel::kTcg;
      } else if (accel == "kvm") {
        out.accel = Accel::kKvm;
      } else {
        return Error(Code::kInvalidArgument,
                     where + "accel must be auto, kvm or tcg, not " + value.to_json());
      }
    } else if (key == "memory_mb") {
      const int64_t mb = value.is_int() ? value.as_int() : -1;
      if (mb < kMinMemoryMb || mb > (int64_t{1} << 20)) {
        return Error(Code::kInvalidArgument, where + "memory_mb must be a number of MiB from " +
                                                 std::to_string(kMinMemoryMb) +
                                                 " to 1048576, not " + value.to_json());
      }
      out.memory_mb = mb;
    } else if (key == "qemu") {
      if (!value.is_string() || value.str().empty() || value.str()[0] != '/') {
        return Error(
            Code::kInvalidArgument,
            where + "qemu must be the absolute path of qemu-system-x86_64, not " + value.to_json());
      }
      out.qemu = value.str();
    } else {
      return Error(
          Code::kInvalidArgument,
          where + "unknown setting \"" + key +
              "\" (the qemu connector knows bridge, subnet, nat, accel, memory_mb and qemu)");
    }
  }
  return out;
}

}  // namespace slipway::connectors::qemu
