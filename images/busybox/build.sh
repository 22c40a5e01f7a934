#!/bin/sh
# Builds the busybox reference image (images/README.md):
#
#   OUT/vmlinuz          Debian's cloud kernel (linux-image-cloud-amd64)
#   OUT/vmlinux          the same, uncompressed, for PVH boot (when lz4 can extract it)
#   OUT/initramfs.cpio   busybox-static, the agent, the ss-* links, the virtio and
#                        iso9660 modules, and /init
#   OUT/rootfs/          the same tree unpacked: the local cloud's root file system
#
# usage: build.sh OUT AGENT
#   OUT    the image's directory (build/images/busybox)
#   AGENT  the static slipway-agent
# env:     SLIPWAY_KERNEL_VERSION  a kernel other than the newest *-cloud-amd64 in /boot
#          BUSYBOX                 a static busybox other than /bin/busybox
#
# Takes about two seconds; the parts that depend only on the kernel (vmlinux,
# the stripped modules) are kept between runs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT AGENT}
agent=${2:?usage: build.sh OUT AGENT}
busybox=${BUSYBOX:-/bin/busybox}

fail() {
  echo "images/busybox: $*" >&2
  exit 1
}

# --- What the image is made of, each missing piece named by its package. ----
kver=${SLIPWAY_KERNEL_VERSION:-}
if [ -z "$kver" ]; then
  # The newest by version (a glob would sort 6.1.0-9 after 6.1.0-10).
  kver=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1)
fi
kernel=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
if [ -z "$kver" ] || [ ! -r "$kernel" ] || [ ! -f "$moddir/modules.dep" ]; then
  fail "no readable Debian cloud kernel with its modules in /boot and /lib/modules: install the package linux-image-cloud-amd64 (scripts/setup does)"
fi
if [ ! -x "$busybox" ] || readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
  fail "$busybox is missing or not statically linked: install the package busybox-static (scripts/setup does)"
fi
[ -x "$agent" ] || fail "the agent $agent does not exist: build the slipway-agent target first"
if readelf -l "$agent" 2>/dev/null | grep -q 'program interpreter'; then
  fail "the agent $agent is not statically linked (a busybox machine has no C library): configure with SLIPWAY_STATIC_AGENT=ON"
fi
for tool in cpio objcopy readelf; do
  command -v "$tool" >/dev/null 2>&1 || fail "the command $tool is missing: install the packages cpio and binutils (scripts/setup does)"
done

mkdir -p "$out"
rm -f "$out/vmlinuz.new" "$out/vmlinux.new"
out=$(cd "$out" && pwd)
cache=$out/.cache/$kver
mkdir -p "$cache"
stage=$(mktemp -d "$out/.stage.XXXXXX")
trap 'rm -rf "$stage" "$stage.cpio"' EXIT INT TERM

# --- Modules: the roots below and what they depend on, dependencies first. --
# virtio_pci: the PCI transport; virtio_net: eth0; virtio_blk: the seed (and a
# disk); isofs: the seed's file system (it needs cdrom).
roots="kernel/drivers/virtio/virtio_pci.ko kernel/drivers/net/virtio_net.ko
kernel/drivers/block/virtio_blk.ko kernel/fs/isofs/isofs.ko"
order=''
add_module() {
  case " $order " in *" $1 "*) return 0 ;; esac
  line=$(grep "^$1:" "$moddir/modules.dep") || fail "the kernel $kver has no module $1"
  for dep in ${line#*:}; do add_module "$dep"; done
  order="$order $1"
}
for root in $roots; do add_module "$root"; done

mods=$stage/lib/modules/$kver
mkdir -p "$mods"
: >"$mods/modules.order"
: >"$mods/modules.dep"
for module in $order; do
  mkdir -p "$mods/$(dirname "$module")" "$cache/$(dirname "$module")"
  # Without the appended signature (and debug sections) a module loads
  # faster: no RSA check under TCG. The kernel says it is tainted, once.
  if [ ! -f "$cache/$module" ] || [ "$moddir/$module" -nt "$cache/$module" ]; then
    objcopy --strip-debug "$moddir/$module" "$cache/$module.tmp"
    mv "$cache/$module.tmp" "$cache/$module"
  fi
  cp "$cache/$module" "$mods/$module"
  echo "$module" >>"$mods/modules.order"
  grep "^$module:" "$moddir/modules.dep" >>"$mods/modules.dep"
done

# --- The tree. ----------------------------------------------------------------
cd "$stage"
mkdir -p bin sbin usr/bin usr/sbin usr/local/bin usr/local/sbin etc/slipway \
  proc sys dev run tmp mnt root srv var/lib/slipway-agent var/log var/tmp
chmod 0700 root etc/slipway var/lib/slipway-agent
chmod 1777 tmp var/tmp

cp "$busybox" bin/busybox
chmod 0755 bin/busybox
# Relative links, so the same tree works as an initramfs and under an overlay.
for applet in $("$busybox" --list-full); do
  [ -e "$applet" ] || [ -L "$applet" ] && continue
  case $applet in
    bin/*) ln -s busybox "$applet" ;;
    sbin/*) ln -s ../bin/busybox "$applet" ;;
    usr/bin/* | usr/sbin/*) ln -s ../../bin/busybox "$applet" ;;
  esac
done

cp "$agent" usr/sbin/slipway-agent
chmod 0755 usr/sbin/slipway-agent
ln -s ../usr/sbin/slipway-agent sbin/slipway-agent
for command in ss-get ss-set ss-get-all ss-display ss-abort ss-random ss-barrier; do
  ln -s ../../sbin/slipway-agent "usr/local/bin/$command"
done

cp "$here/init" init
chmod 0755 init
cat >etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >etc/group <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >etc/hosts
# /etc/hostname and /etc/resolv.conf are the machine's: /init writes them
# from the kernel command line, the local cloud into the machine's layer.
echo "busybox" >etc/hostname
cat >etc/os-release <<'EOF'
ID=busybox
NAME="Slipway busybox"
PRETTY_NAME="Slipway busybox reference image"
EOF
cd - >/dev/null

# --- initramfs.cpio: newc, every file root's, in a stable order. --------------
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$stage.cpio"

# --- The kernel, and its PVH-bootable vmlinux when it can be extracted. -------
# A bzImage carries the kernel compressed; qemu boots the uncompressed ELF
# straight at its PVH entry, skipping the real-mode setup and decompression.
# The payload is found by its magic, as the kernel's scripts/extract-vmlinux
# does. Only once per kernel.
if [ ! -f "$cache/vmlinuz" ] || ! cmp -s "$kernel" "$cache/vmlinuz"; then
  rm -f "$cache/vmlinux"
  cp "$kernel" "$cache/vmlinuz.tmp"
  mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
fi
if [ ! -f "$cache/vmlinux" ]; then
  # tr turns the magic's first byte into a line start and its other bytes
  # into FILL (and the file's own FILL bytes and newlines into '='), so grep
  # finds each place the magic begins: the offset printed is one past it.
  extract() {  # MAGIC FILL COMMAND...
    magic=$1 fill=$2
    shift 2
    command -v "$1" >/dev/null 2>&1 || return 1
    for position in $(tr "$magic\n$fill" "\n$fill=" <"$kernel" | grep -abo "^$fill" | cut -d: -f1); do
      tail -c "+$position" "$kernel" | "$@" >"$cache/vmlinux.tmp" 2>/dev/null || true
      if [ "$(head -c 4 "$cache/vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
        mv "$cache/vmlinux.tmp" "$cache/vmlinux"
        return 0
      fi
    done
    rm -f "$cache/vmlinux.tmp"
    return 1
  }
  extract '\002!L\030' xxx lz4 -d -c ||
    extract '(\265/\375' xxx zstd -d -c ||
    extract '\037\213\010' xy gzip -d -c ||
    extract '\3757zXZ\000' abcde xz -d -c || true
  # Without a PVH entry note qemu cannot boot it: keep the bzImage only.
  if [ -f "$cache/vmlinux" ] && ! readelf -n "$cache/vmlinux" 2>/dev/null | grep -q 'Unknown note type: (0x00000012)'; then
    rm -f "$cache/vmlinux"
  fi
  if [ ! -f "$cache/vmlinux" ]; then
    echo "images/busybox: no vmlinux extracted from $kernel (install lz4 for faster boots); machines boot the bzImage" >&2
  fi
fi

# --- Into place: the old tree goes only once the new one is complete. ---------
# Hard links from the cache: the kernel files cost nothing to put in place.
place() {  # FILE: OUT/FILE becomes a hard link to the cache's
  if [ ! "$out/$1" -ef "$cache/$1" ]; then
    ln -f "$cache/$1" "$out/$1.new"
    mv "$out/$1.new" "$out/$1"
  fi
}
place vmlinuz
if [ -f "$cache/vmlinux" ]; then
  place vmlinux
else
  rm -f "$out/vmlinux"
fi
mv "$stage.cpio" "$out/initramfs.cpio"
rm -rf "$out/rootfs.old"
[ -d "$out/rootfs" ] && mv "$out/rootfs" "$out/rootfs.old"
chmod 0755 "$stage"
mv "$stage" "$out/rootfs"
rm -rf "$out/rootfs.old"
echo "images/busybox: kernel $kver, initramfs $(wc -c <"$out/initramfs.cpio") bytes, $(echo $order | wc -w) modules"
