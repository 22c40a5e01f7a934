#!/bin/sh
# The same derived image built by Packer's qemu builder (over SSH) and by
# `slipway image build --cloud qemu` (through its agent), interleaved rounds
# in one run: wall time and output size, as ratios (issue 16).
#
#   bench/image_vs_packer.sh [BUILD_DIR] [ROUNDS]
#
# Both boot the same parent disk, kernel and initrd (bench/packer/README.md:
# the Debian 12 reference image with openssh-server added, which Packer
# needs), install nginx and run bench/packer/site.sh, under TCG with one CPU
# and 512 MiB. Packer's image is standalone (its default, not
# use_backing_file), as Slipway's is. Then Slipway builds the same recipe on
# base/debian-12, which has no SSH server, and deploys it: its images need
# none. Needs root, packer and Debian's archive; about 2.5 minutes a round.
set -eu
build=$(realpath "${1:-build}")
rounds=${2:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
parent_dir=${PACKER_PARENT_DIR:-/var/tmp/packer-bench}
work=$(mktemp -d /var/tmp/slipway-bench-XXXXXX)
bridge=slwbenchpk0
. "$src/bench/controller.sh"
command -v packer >/dev/null || { echo "$0: apt-get install packer" >&2; exit 1; }
"$src/bench/packer/make_parent.sh" "$parent_dir" >/dev/null

start_controller 'tcp://0.0.0.0:*' <<CONFIG
clouds:
  qemu: {connector: qemu, bridge: $bridge, subnet: 10.213.253.0/24, memory_mb: 512}
default-cloud: qemu
CONFIG

recipe() {  # NAME PARENT
  cat <<YAML
kind: image
name: $1
parent: $2
packages: [nginx]
parameters:
  outputs: [nginx, page, sshd]
scripts:
  post-install: |
$(sed 's/^/    /' "$src/bench/packer/site.sh")
  deployment: |
    ss-set nginx "\$(dpkg-query -W -f='\${Status}' nginx)"
    ss-set page "\$(cat /var/www/html/index.html)"
    ss-set sshd "\$(dpkg-query -W -f='\${Status}' openssh-server 2>/dev/null || echo absent)"
YAML
}
cat >"$work/parent.yaml" <<YAML
kind: image
name: bench/packer-parent
description: The Debian 12 reference image with openssh-server (bench/packer/make_parent.sh)
platform: debian
reference:
  qemu: {kernel: $parent_dir/vmlinuz, initrd: $parent_dir/initrd.img, disk: $parent_dir/parent.qcow2}
YAML
recipe bench/nginx bench/packer-parent >"$work/nginx.yaml"
recipe bench/nginx-plain base/debian-12 >"$work/plain.yaml"
slipway module push "$work/parent.yaml" "$work/nginx.yaml" "$work/plain.yaml" >/dev/null

packer_run() {  # prints "WALL_MS BYTES"
  out=$(PACKER_CPUS=1 PACKER_MEMORY=512 "$src/bench/packer/packer_build.sh" "$parent_dir/parent.qcow2" \
    "$parent_dir/vmlinuz" "$parent_dir/initrd.img" "$work/packer-$1")
  wall=$(echo "$out" | sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p')
  bytes=$(echo "$out" | sed -n 's/.*size_bytes=\([0-9]*\).*/\1/p')
  rm -rf "$work/packer-$1"
  awk -v w="$wall" -v b="$bytes" 'BEGIN { printf "%d %d\n", w * 1000, b }'
}
slipway_run() {  # prints "WALL_MS BYTES" (the disk; the kernel and initrd copies apart)
  start=$(now_ms)
  slipway image build bench/nginx --wait >/dev/null 2>"$work/build.log" ||
    { cat "$work/build.log" >&2; exit 1; }
  wall=$(($(now_ms) - start))
  id=$(slipway --json image list bench/nginx | sed -n 's/.*"id": *"\([a-z0-9]*\)".*/\1/p' | head -1)
  bytes=$(du -B1 "$work/data/builds/$id/disk.qcow2" | cut -f1)
  echo "$wall $bytes"
}

pw=""; sw=""; pb=""; sb=""
for round in $(seq "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    p=$(packer_run "$round"); s=$(slipway_run)
  else
    s=$(slipway_run); p=$(packer_run "$round")
  fi
  set -- $p $s
  echo "round $round: packer ${1} ms ${2} bytes; slipway ${3} ms ${4} bytes"
  pw="$pw $1"; pb="$pb $2"; sw="$sw $3"; sb="$sb $4"
done
awk -v pw="$(median $pw)" -v sw="$(median $sw)" -v pb="$(median $pb)" -v sb="$(median $sb)" 'BEGIN {
  printf "median wall: packer %.1f s, slipway %.1f s: slipway takes %.2fx packer'"'"'s time\n", pw / 1000, sw / 1000, sw / pw
  printf "median image: packer %.0f MiB, slipway %.0f MiB: %.2fx\n", pb / 1048576, sb / 1048576, sb / pb }'

# The same recipe on base/debian-12, which has no SSH server: built and
# deployed, and the machine says so.
slipway image build bench/nginx-plain --wait >/dev/null 2>"$work/build.log" ||
  { cat "$work/build.log" >&2; exit 1; }
id=$(slipway deploy bench/nginx-plain --wait 2>"$work/deploy.log") || { cat "$work/deploy.log" >&2; exit 1; }
echo "bench/nginx-plain (no SSH server) deployed from its build: nginx $(slipway get "$id" nginx-plain.1:nginx)," \
  "page \"$(slipway get "$id" nginx-plain.1:page)\", openssh-server $(slipway get "$id" nginx-plain.1:sshd)"
slipway terminate "$id" >/dev/null
slipway wait "$id" --state Done >/dev/null 2>&1 || true
