// What keeps a machine's root from undoing its own walls. A local machine's
// processes run as the host's root (there is no user namespace), so without
// this a `umount` would uncover the controller's data directory again, a
// mknod'd block device would read the host's disk, and a write to
// /proc/sys/kernel/core_pattern would run a program on the host.
//
// So, as container runtimes do by default: /proc/sys and /proc/sysrq-trigger
// read-only (/sys is mounted read-only already), and the capability bounding
// set cut down to what package installs and services need — no
// CAP_SYS_ADMIN (mount, umount), CAP_SYS_MODULE, CAP_MKNOD,
// CAP_DAC_READ_SEARCH (open_by_handle_at), CAP_NET_ADMIN, CAP_SYS_PTRACE...
// It is a hardening, not a sandbox for hostile code: the machine shares the
// host's kernel and, with the `host` rootfs, sees the host's files.
#pragma once

#include "common/status.h"

namespace slipway::connectors::local::launcher {

// Call last before exec, inside the machine (after pivot_root).
Status confine_machine();

}  // namespace slipway::connectors::local::launcher
