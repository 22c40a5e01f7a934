#!/bin/sh
# One Packer build of the benchmark's derived image (bench/packer/README.md):
# PARENT_DISK, booted under TCG with KERNEL and INITRD, gets nginx and
# site.sh; the result is OUT_DIR/image/disk.qcow2.
#
# usage: packer_build.sh PARENT_DISK KERNEL INITRD OUT_DIR
#
#   OUT_DIR/image/disk.qcow2   the derived image
#   OUT_DIR/packer.log         packer build's output, with timestamps
#   OUT_DIR/packer-debug.log   PACKER_LOG=1 (the qemu command line among it)
#   OUT_DIR/console.log        the VM's serial console
#   OUT_DIR/guest-journal.txt  the build VM's journal, from the image
#
# Prints, on success, one line
#   packer wall_s=N size_bytes=M virtual_bytes=V actual_bytes=A boot_to_ssh_s=B
#          provision_s=P shutdown_s=D compact_s=C guest_sshd_s=S guest_login_s=L
# wall_s: the whole `packer build` (disk copy, boot, provisioning, shutdown,
# Packer's compaction); size_bytes: du -B1 of the image (bytes on disk);
# virtual_bytes/actual_bytes: qemu-img info's virtual size and disk size;
# boot_to_ssh_s: from Packer starting the VM to its "Connected to SSH!"
# (whole seconds, Packer's timestamps); provision_s: from there to Packer's
# shutdown command (both provisioners); shutdown_s: from there to the VM's
# end (Packer's "Converting hard drive", or the build's end when there is no
# compaction); compact_s: Packer's compaction (qemu-img convert of the whole
# image; unknown with PACKER_BACKING=1, which has none);
# guest_sshd_s, guest_login_s: the kernel's uptime when sshd listened and when
# Packer's login was accepted, from the image's journal (read after wall_s).
#
# Environment: SSH_KEY (default: id_ed25519 next to PARENT_DISK, as
# make_parent.sh leaves it), PACKER_BACKING=1 for use_backing_file (the image
# is then an overlay on PARENT_DISK), PACKER_MEMORY (512), PACKER_CPUS (1), PACKER_CHECK=0 (below).
# Exits non-zero when the build fails.
set -eu

if [ $# -ne 4 ]; then
  echo "usage: $0 PARENT_DISK KERNEL INITRD OUT_DIR" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }
for f in "$1" "$2" "$3"; do
  [ -r "$f" ] || { echo "$0: cannot read $f" >&2; exit 1; }
done
parent=$(abs "$1")
kernel=$(abs "$2")
initrd=$(abs "$3")
mkdir -p "$4"
out=$(cd "$4" && pwd)
if [ -n "$(ls -A "$out")" ]; then
  echo "$0: $out is not empty" >&2
  exit 1
fi
key=${SSH_KEY:-$(dirname "$parent")/id_ed25519}
[ -r "$key" ] || { echo "$0: no SSH key at $key (make_parent.sh makes one)" >&2; exit 1; }
backing=false
# The overlay's size is the parent's (Packer's default disk_size is 40960M).
parent_mib=$(( $(qemu-img info --output=json "$parent" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p' | head -1) / 1048576 ))
if [ "${PACKER_BACKING:-0}" = 1 ]; then
  backing=true
  # Packer 1.6.6 gives qemu-img no backing format; bin/qemu-img adds it.
  PATH=$here/bin:$PATH
  export PATH
fi
command -v packer >/dev/null || { echo "$0: packer is missing (apt-get install packer)" >&2; exit 1; }

# Packer's cache and temporary files stay out of the caller's directory.
export PACKER_CACHE_DIR="$out/packer_cache"
export CHECKPOINT_DISABLE=1
export PACKER_LOG=1 PACKER_LOG_PATH="$out/packer-debug.log"

start=$(date +%s.%N)
status=0
packer build -color=false -timestamp-ui \
  -var "parent_disk=$parent" \
  -var "kernel=$kernel" \
  -var "initrd=$initrd" \
  -var "output_directory=$out/image" \
  -var "console_log=$out/console.log" \
  -var "ssh_private_key_file=$key" \
  -var "use_backing_file=$backing" \
  -var "disk_size=${parent_mib}M" \
  -var "memory=${PACKER_MEMORY:-512}" \
  -var "cpus=${PACKER_CPUS:-1}" \
  "$here/debian-nginx.json" >"$out/packer.log" 2>&1 || status=$?
end=$(date +%s.%N)
rm -rf "$out/packer_cache"

disk=$out/image/disk.qcow2
if [ $status -ne 0 ] || [ ! -f "$disk" ]; then
  echo "$0: packer build failed ($status); the end of $out/packer.log:" >&2
  tail -15 "$out/packer.log" >&2
  exit 1
fi

wall=$(echo "$start $end" | awk '{printf "%.1f", $2 - $1}')
size=$(du -B1 "$disk" | cut -f1)
info=$(qemu-img info --output=json "$disk")
virtual=$(echo "$info" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p' | head -1)
actual=$(echo "$info" | sed -n 's/.*"actual-size": *\([0-9]*\).*/\1/p' | head -1)
# -timestamp-ui prefixes each line with an RFC 3339 time.
stamp() { grep -m1 "$1" "$out/packer.log" | cut -d' ' -f1 | sed 's/:$//'; }
epoch() { [ -n "$1" ] && date -d "$1" +%s; }
booted=$(epoch "$(stamp 'Starting VM')") || booted=
connected=$(epoch "$(stamp 'Connected to SSH!')") || connected=
halting=$(epoch "$(stamp 'Gracefully halting')") || halting=
converting=$(epoch "$(stamp 'Converting hard drive')") || converting=
finished=$(epoch "$(stamp "Build 'qemu' finished")") || finished=
since() { if [ -n "$1" ] && [ -n "$2" ]; then echo $(($2 - $1)); else echo unknown; fi; }
boot_to_ssh=$(since "$booted" "$connected")
provision=$(since "$connected" "$halting")
# No compaction of an overlay (use_backing_file): the build ends at the halt.
shutdown=$(since "$halting" "${converting:-$finished}")
compact=$(since "$converting" "$finished")

# After wall_s, not in it: the image is read with debugfs from a raw copy (no
# mount). Its two files must hold what site.sh wrote, nginx must be there and
# its file system must be clean (else the build failed); its journal gives
# the guest's own times, the kernel's uptime when sshd listened and when
# Packer's login was accepted.
# PACKER_CHECK=0 skips all this.
sshd_s=unknown
login_s=unknown
if [ "${PACKER_CHECK:-1}" = 1 ]; then
  raw=$out/guest.raw
  journal=$out/guest-journal
  rm -rf "$raw" "$journal"
  mkdir -p "$journal"
  trap 'rm -rf "$raw" "$journal"' EXIT
  qemu-img convert -O raw "$disk" "$raw"
  file_of() { debugfs -R "cat $1" "$raw" 2>/dev/null; }
  if [ "$(file_of /etc/slipway-bench/built)" != built-by-bench ] ||
    [ "$(file_of /var/www/html/index.html)" != "hello from a built image" ] ||
    ! debugfs -R "stat /usr/sbin/nginx" "$raw" 2>/dev/null | grep -q 'Type: regular'; then
    echo "$0: $disk lacks nginx or what site.sh writes" >&2
    exit 1
  fi
  # The VM powered off cleanly: ext4 was unmounted, no journal to replay.
  if ! dumpe2fs -h "$raw" 2>/dev/null | grep -q '^Filesystem state: *clean$'; then
    echo "$0: the file system in $disk was not cleanly unmounted" >&2
    exit 1
  fi
  if debugfs -R "rdump /var/log/journal $journal" "$raw" >/dev/null 2>&1; then
    journalctl --directory="$journal/journal" -o short-monotonic --no-pager >"$out/guest-journal.txt" 2>/dev/null || true
    uptime_of() { grep -m1 "$1" "$out/guest-journal.txt" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }
    sshd_s=$(uptime_of 'sshd\[[0-9]*\]: Server listening')
    login_s=$(uptime_of 'sshd\[[0-9]*\]: Accepted publickey')
    [ -n "$sshd_s" ] || sshd_s=unknown
    [ -n "$login_s" ] || login_s=unknown
  fi
  rm -rf "$raw" "$journal"
fi
echo "packer wall_s=$wall size_bytes=$size virtual_bytes=$virtual actual_bytes=$actual boot_to_ssh_s=$boot_to_ssh provision_s=$provision shutdown_s=$shutdown compact_s=$compact guest_sshd_s=$sshd_s guest_login_s=$login_s"
