#!/bin/sh
# Makes the parent disk of the Packer side of the image-build benchmark
# (bench/packer/README.md) in OUT_DIR:
#
#   OUT_DIR/rootfs/            a copy of the Debian 12 reference image's rootfs
#                              with openssh-server, DHCP and a build key added
#   OUT_DIR/parent.qcow2       rootfs/ as one ext4 file system (root=/dev/vda),
#                              made as images/debian-12/build.sh makes disk.qcow2
#   OUT_DIR/vmlinuz, initrd.img  the image's kernel and initrd (unchanged)
#   OUT_DIR/id_ed25519[.pub]   the key Packer logs in with as root
#
# usage: make_parent.sh OUT_DIR
#
# Needs root and the Debian archive. Reads SLIPWAY_IMAGE (default
# /work/main/build/images/debian-12) and never writes there. Re-runnable: the
# rootfs is copied and changed only when OUT_DIR/rootfs is missing (it
# appears, complete, by a rename); the disk is made again when anything in
# rootfs/ is newer than it.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
out=$1
image=${SLIPWAY_IMAGE:-/work/main/build/images/debian-12}
rootfs=$out/rootfs

say() { echo "packer-parent: $*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "$0: the copy keeps owners and chroot needs root" >&2
  exit 1
fi
for tool in mke2fs qemu-img ssh-keygen; do
  command -v $tool >/dev/null || { echo "$0: $tool is missing" >&2; exit 1; }
done
[ -d "$image/rootfs" ] || { echo "$0: no rootfs in $image" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
rootfs=$out/rootfs

mounted=
cleanup() {
  for m in $mounted; do umount "$m" 2>/dev/null || umount -l "$m"; done
  mounted=
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the key Packer logs in with ---------------------------------------------
if [ ! -f "$out/id_ed25519" ]; then
  say "build key $out/id_ed25519"
  ssh-keygen -q -t ed25519 -N '' -C packer-bench -f "$out/id_ed25519"
fi

# --- rootfs: the reference rootfs, sshd, DHCP, the key -------------------------
make_rootfs() {
  new=$out/rootfs.new
  rm -rf "$new"
  say "copying $image/rootfs"
  cp -a "$image/rootfs" "$new"

  # apt in the chroot resolves names as the host does; no daemon starts there.
  cp -L /etc/resolv.conf "$new/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
  chmod 755 "$new/usr/sbin/policy-rc.d"
  mount -t proc proc "$new/proc"
  mounted="$new/proc"
  say "apt-get install openssh-server"
  log=$out/apt.log
  {
    chroot "$new" apt-get update &&
      DEBIAN_FRONTEND=noninteractive chroot "$new" apt-get install -y --no-install-recommends openssh-server
  } >"$log" 2>&1 || {
    tail -20 "$log" >&2
    exit 1
  }
  chroot "$new" apt-get clean
  cleanup
  rm -f "$new/usr/sbin/policy-rc.d" "$log"
  rm -rf "$new"/var/lib/apt/lists/* "$new"/var/cache/apt/*.bin

  # Network: qemu's user-mode network (Packer's default) hands out 10.0.2.15
  # by DHCP and answers DNS at 10.0.2.3. systemd-networkd (in the image, not
  # enabled there) asks for the lease; nothing writes resolv.conf from it
  # (no resolved), so the slirp resolver is written here.
  chroot "$new" systemctl enable systemd-networkd.service >/dev/null 2>&1
  echo "nameserver 10.0.2.3" >"$new/etc/resolv.conf"

  # Login: root with the build key only (sshd's default PermitRootLogin
  # prohibit-password). The host keys are the ones openssh-server's postinst
  # made in the chroot, the same in every build.
  install -d -m 700 "$new/root/.ssh"
  install -m 600 "$out/id_ed25519.pub" "$new/root/.ssh/authorized_keys"

  mv "$new" "$rootfs"
}

# Writes FILE with the content on standard input unless it has it already
# (so the disk is made again only when something changed).
put() {
  cat >"$1.new"
  if cmp -s "$1.new" "$1"; then rm -f "$1.new"; else mv "$1.new" "$1"; fi
}

# DHCP only where Packer boots it: a Slipway machine's network comes from
# slipway.ip on its kernel command line, and networkd waiting for a lease
# there would hold network-online.target (which the agent's unit wants) for
# wait-online's two minutes.
configure_network() {
  mkdir -p "$1/etc/systemd/network" "$1/etc/systemd/system/systemd-networkd-wait-online.service.d"
  put "$1/etc/systemd/network/20-packer-dhcp.network" <<NET
# bench/packer: the Packer build VM's NIC, by DHCP from qemu's user network.
[Match]
Name=en* eth*
KernelCommandLine=!slipway.ip

[Network]
DHCP=ipv4
NET
  put "$1/etc/systemd/system/systemd-networkd-wait-online.service.d/slipway-bench.conf" <<UNIT
# bench/packer: nothing to wait for on a Slipway machine (slipway-boot set it up).
[Unit]
ConditionKernelCommandLine=!slipway.ip
UNIT
}

if [ ! -d "$rootfs" ]; then
  make_rootfs
fi
configure_network "$rootfs"

# --- kernel and initrd: the reference image's --------------------------------
for file in vmlinuz initrd.img; do
  cmp -s "$image/$file" "$out/$file" || cp "$image/$file" "$out/$file"
done

# --- the disk: as build.sh makes disk.qcow2 ------------------------------------
disk=$out/parent.qcow2
if [ ! -f "$disk" ] || [ -n "$(find "$rootfs" -newer "$disk" -print -quit)" ]; then
  used=$(du -sxm "$rootfs" | cut -f1)
  size=$((used + 1024))
  say "parent.qcow2: ext4 of ${size} MiB (${used} MiB used)"
  rm -f "$out/parent.raw"
  mke2fs -q -F -t ext4 -L slipway-root -d "$rootfs" "$out/parent.raw" "${size}M"
  qemu-img convert -O qcow2 "$out/parent.raw" "$disk.new"
  rm -f "$out/parent.raw"
  mv "$disk.new" "$disk"
fi
say "ready: $disk"
