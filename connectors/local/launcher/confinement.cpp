#include "connectors/local/launcher/confinement.h"

#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace slipway::connectors::local::launcher {
namespace {

// Docker's default set, less CAP_MKNOD: without a device cgroup, a device
// node is a way to the host's disks.
constexpr int kKept[] = {
    CAP_CHOWN,      CAP_DAC_OVERRIDE, CAP_FOWNER,  CAP_FSETID,           CAP_KILL,
    CAP_SETGID,     CAP_SETUID,       CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_NET_RAW,
    CAP_SYS_CHROOT, CAP_AUDIT_WRITE,  CAP_SETFCAP};

Error confine_error(const std::string& what) {
  return Error(Code::kIo, "cannot " + what + " in the machine: " + std::strerror(errno));
}

bool kept(int cap) {
  for (int k : kKept) {
    if (k == cap) return true;
  }
  return false;
}

Status read_only_bind(const char* path) {
  if (::access(path, F_OK) != 0) return ok_status();  // not in this kernel
  if (::mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
      ::mount(nullptr, path, nullptr,
              MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    return confine_error(std::string("make ") + path + " read-only");
  }
  return ok_status();
}

}  // namespace

Status confine_machine() {
  SLIPWAY_RETURN_IF_ERROR(read_only_bind("/proc/sys"));
  SLIPWAY_RETURN_IF_ERROR(read_only_bind("/proc/sysrq-trigger"));
  // Past the last capability this kernel knows, PR_CAPBSET_DROP fails with EINVAL.
  for (int cap = 0; cap <= 63; ++cap) {
    if (kept(cap)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) break;
      return confine_error("drop capability " + std::to_string(cap));
    }
  }
  // Root's exec then gets exactly the bounding set; nothing may come back
  // through the inheritable or ambient sets.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return confine_error("read capabilities");
  data[0].inheritable = data[1].inheritable = 0;
  if (::syscall(SYS_capset, &header, data) != 0)
    return confine_error("clear inheritable capabilities");
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return confine_error("clear ambient capabilities");
  }
  return ok_status();
}

}  // namespace slipway::connectors::local::launcher
