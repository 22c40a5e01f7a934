#!/bin/sh
# Builds the Debian 12 reference image (images/README.md) into OUT:
#
#   OUT/rootfs/               debootstrap minbase, systemd, the cloud kernel, and
#                             the slipway-agent package (the agent, its unit and
#                             the boot hook): the local cloud's root file system
#   OUT/vmlinuz, initrd.img   the kernel and initrd of rootfs/boot, for qemu
#   OUT/disk.qcow2            rootfs/ as one ext4 file system (root=/dev/vda)
#
# usage: build.sh OUT SLIPWAY_AGENT_DEB
#
# Needs root and the Debian archive (SLIPWAY_DEBIAN_MIRROR, default
# http://deb.debian.org/debian). Re-runnable: debootstrap runs only when
# OUT/rootfs is missing (it appears, complete, by a rename), the agent is
# reinstalled when its package changed, and the disk is made again when
# anything in rootfs/ is newer than it.
set -eu

if [ $# -ne 2 ]; then
  echo "usage: $0 OUT SLIPWAY_AGENT_DEB" >&2
  exit 2
fi
out=$1
agent_deb=$2
mirror=${SLIPWAY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
rootfs=$out/rootfs
# What a machine needs beyond minbase: to boot as a VM (systemd as init, udev
# to load drivers and name devices, the kernel and its initrd), to reach the
# network (iproute2 for the boot hook, ca-certificates for HTTPS), and nothing
# more: the recipes install the rest.
include=systemd,systemd-sysv,udev,iproute2,ca-certificates,linux-image-cloud-amd64
# Forced into the initrd and loaded there: the disk and the NIC qemu gives a
# machine, the root file system, the NoCloud seed on a virtio disk or a CD.
initrd_modules="virtio_pci virtio_blk virtio_scsi virtio_net ext4 isofs sr_mod ata_piix ahci"

say() { echo "debian-12: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "$0: debootstrap and chroot need root" >&2
  exit 1
fi
if [ ! -f "$agent_deb" ]; then
  echo "$0: no agent package at $agent_deb (cmake --build build --target package-agent)" >&2
  exit 1
fi
for tool in debootstrap mke2fs qemu-img; do
  command -v $tool >/dev/null || { echo "$0: $tool is missing (apt-get install debootstrap e2fsprogs qemu-utils)" >&2; exit 1; }
done
mkdir -p "$out"

# /proc in the chroot while the initrd is made; unmounted on any exit.
mounted=
cleanup() {
  for m in $mounted; do umount "$m" 2>/dev/null || umount -l "$m"; done
  mounted=
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mount_proc() {
  mount -t proc proc "$1/proc"
  mounted="$1/proc $mounted"
}

# --- rootfs: debootstrap and the machine's configuration -----------------------
make_rootfs() {
  new=$out/rootfs.new
  rm -rf "$new"
  say "debootstrap $suite from $mirror"
  log=$out/debootstrap.log
  debootstrap --variant=minbase --include="$include" --components=main \
    "$suite" "$new" "$mirror" >"$log" 2>&1 || {
    tail -20 "$log" >&2
    exit 1
  }
  rm -f "$log"

  cat >"$new/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
EOF
  # Machines run apt-get update before their packages: no translations to
  # fetch and parse (6 MB, seconds under TCG).
  echo 'Acquire::Languages "none";' >"$new/etc/apt/apt.conf.d/99slipway-no-translations"
  # A machine's disk is /dev/vda, which the kernel mounts read-write
  # (root=/dev/vda rw); no fsck of a mounted root.
  echo "/dev/vda / ext4 defaults,errors=remount-ro 0 0" >"$new/etc/fstab"
  # The cloud names the machine (slipway.hostname, or the local cloud's
  # /etc/hostname) and gives it resolvers (slipway.dns, the local cloud's
  # /etc/resolv.conf); the build host's must not stay in the image.
  echo debian >"$new/etc/hostname"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$new/etc/hosts"
  rm -f "$new/etc/resolv.conf"
  : >"$new/etc/resolv.conf"
  # Each machine makes its own machine-id at its first boot.
  : >"$new/etc/machine-id"
  rm -f "$new/var/lib/dbus/machine-id"

  # A small initrd with the drivers listed above, each loaded at boot.
  kernel=$(ls "$new/lib/modules")
  echo "MODULES=list" >"$new/etc/initramfs-tools/conf.d/slipway"
  {
    echo "# Loaded by the initrd of the Slipway Debian 12 image (images/debian-12)."
    for module in $initrd_modules; do
      # Some are built into the cloud kernel; only modules can be listed.
      if grep -q "/$module\.ko" "$new/lib/modules/$kernel/modules.dep"; then echo "$module"; fi
    done
  } >>"$new/etc/initramfs-tools/modules"
  mount_proc "$new"
  say "initrd for $kernel"
  chroot "$new" update-initramfs -u -k "$kernel" >/dev/null
  cleanup

  chroot "$new" apt-get clean
  rm -rf "$new"/var/lib/apt/lists/* "$new"/var/cache/apt/*.bin "$new/var/log/bootstrap.log"
  mv "$new" "$rootfs"
}

if [ ! -d "$rootfs" ]; then
  make_rootfs
  rm -f "$out/agent.sha256"
fi

# --- the agent: the same package slipway-agent users install -------------------
sum=$(sha256sum "$agent_deb" | cut -d' ' -f1)
if [ "$(cat "$out/agent.sha256" 2>/dev/null)" != "$sum" ]; then
  say "installing $(basename "$agent_deb")"
  cp "$agent_deb" "$rootfs/tmp/slipway-agent.deb"
  # Its postinst enables slipway-boot and slipway-agent; no systemd runs in
  # the chroot, so it starts nothing.
  chroot "$rootfs" dpkg -i /tmp/slipway-agent.deb >/dev/null
  rm -f "$rootfs/tmp/slipway-agent.deb"
  echo "$sum" >"$out/agent.sha256"
fi

# --- kernel and initrd for qemu's direct kernel boot ---------------------------
kernel=$(ls "$rootfs/lib/modules")
for file in vmlinuz initrd.img; do
  cmp -s "$rootfs/boot/$file-$kernel" "$out/$file" || cp "$rootfs/boot/$file-$kernel" "$out/$file"
done

# --- the disk: an ext4 file system of rootfs/, no partition table --------------
if [ ! -f "$out/disk.qcow2" ] || [ -n "$(find "$rootfs" -newer "$out/disk.qcow2" -print -quit)" ]; then
  used=$(du -sxm "$rootfs" | cut -f1)
  size=$((used + 1024))
  say "disk.qcow2: ext4 of ${size} MiB (${used} MiB used)"
  rm -f "$out/disk.raw"
  mke2fs -q -F -t ext4 -L slipway-root -d "$rootfs" "$out/disk.raw" "${size}M"
  qemu-img convert -O qcow2 "$out/disk.raw" "$out/disk.qcow2.new"
  rm -f "$out/disk.raw"
  mv "$out/disk.qcow2.new" "$out/disk.qcow2"
fi
say "ready in $out"
