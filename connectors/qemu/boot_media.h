// What a qemu machine boots: the kernel, initrd and disk an image's reference
// names, the kernel command line, and the NoCloud seed that carries the
// machine's contextualization.
//
// A reference names files relative to the images directory (absolute paths
// are taken as they are):
//
//   qemu: {kernel: busybox/vmlinuz, initrd: busybox/initramfs.cpio}
//   qemu: {kernel: debian-12/vmlinuz, initrd: debian-12/initrd.img, disk: debian-12/disk.qcow2}
//
// A `vmlinux` next to a `vmlinuz` is booted instead: qemu enters the
// uncompressed kernel at its PVH entry point, which saves the real-mode
// setup and the decompression (about 0.4 s under TCG).
//
// The contextualization goes only into the seed, never on the command line:
// qemu's command line is visible to every user of the host, and /proc/cmdline
// to every process of the machine.
//
// Plain functions: thread-safe for distinct machines.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/value.h"
#include "connectors/connector.h"

namespace slipway::connectors::qemu {

struct BootFiles {
  std::string kernel;       // absolute
  std::string initrd;       // absolute, "" for none
  std::string disk;         // absolute, "" for none: the image's disk, the overlay's backing file
  std::string disk_format;  // "qcow2" or "raw", from the disk's first bytes
};

// The files of an image's qemu reference. Each error is one sentence saying
// what is wrong with the reference or which file is missing.
Result<BootFiles> resolve_boot_files(const Value& reference, const std::string& images_dir);

struct KernelNetwork {
  std::string address;  // "10.214.0.7/24"
  std::string gateway;
  std::vector<std::string> dns;
  std::string hostname;
};

// The kernel command line: a quiet, fast boot on the serial console, the
// network as slipway.ip/gw/dns/hostname, and root=/dev/vda when there is a disk.
std::string kernel_command_line(const KernelNetwork& network, bool has_disk);

// Writes DIR/seed.iso (mode 0600): a NoCloud seed, volume cidata, whose
// user-data is the contextualization and whose meta-data names the instance.
Status write_seed(const std::string& genisoimage, const std::string& dir, const MachineSpec& spec,
                  const std::string& hostname);

// Makes DIR/disk.qcow2, a copy-on-write overlay over the image's disk.
Status make_disk_overlay(const std::string& qemu_img, const std::string& dir,
                         const BootFiles& files);

}  // namespace slipway::connectors::qemu
