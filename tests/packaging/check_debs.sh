#!/bin/sh
# The Debian packages install into a clean Debian 12 and work there:
#
#   1. cpack makes slipway-controller and slipway-agent from the build tree;
#   2. apt-get installs both into a fresh debootstrap minbase with systemd (an
#      overlay on a chroot cached in CACHE), taking their dependencies from the
#      archive;
#   3. the programs run, the ss-* links are all there, the groups exist, the
#      configuration is a conffile, the units are enabled, and
#      `systemd-analyze verify` accepts the units, warnings included (a broken
#      unit is shown to fail the same check first).
#
# usage: check_debs.sh BUILD_DIR CACHE_DIR
# Needs root and the Debian archive (SLIPWAY_DEBIAN_MIRROR); exits 77 (skipped)
# without root. Leaves nothing mounted and no temporary directory.
set -eu

build=$1
cache=$2
mirror=${SLIPWAY_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: installing packages into a chroot needs root"
  exit 77
fi

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }

tmp=$(mktemp -d /tmp/slipway-debs.XXXXXX)
root=$tmp/root
mounted=
cleanup() {
  for m in $mounted; do umount "$m" 2>/dev/null || umount -l "$m"; done
  if grep -q " $tmp/" /proc/mounts; then
    echo "FAIL: still mounted under $tmp:" >&2
    grep " $tmp/" /proc/mounts >&2
    exit 1
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mount_at() {  # mount_at TARGET MOUNT-ARGS...
  target=$1
  shift
  mount "$@" "$target"
  mounted="$target $mounted"
}

step "packages"
cpack --config "$build/CPackConfig.cmake" -B "$tmp/debs" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log" >&2; fail "cpack"; }
controller_deb=$(ls "$tmp"/debs/slipway-controller_*.deb)
agent_deb=$(ls "$tmp"/debs/slipway-agent_*.deb)
for deb in "$controller_deb" "$agent_deb"; do
  dpkg-deb --info "$deb" | sed -n 's/^ \(Package\|Version\|Depends\|Section\):/  &/p'
done

# A minbase chroot, made once and then only read. systemd is in it, as on the
# machines the units are for, so that systemd-analyze finds the targets.
if [ ! -d "$cache/chroot" ]; then
  step "debootstrap minbase bookworm into $cache/chroot (once)"
  rm -rf "$cache/chroot.new"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include=systemd bookworm "$cache/chroot.new" "$mirror" \
    >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log" >&2; fail "debootstrap"; }
  rm -f "$cache/chroot.new/etc/resolv.conf"
  mv "$cache/chroot.new" "$cache/chroot"
fi
mkdir -p "$cache/archives/partial" "$tmp/upper" "$tmp/work" "$root"
mount_at "$root" -t overlay overlay -o "lowerdir=$cache/chroot,upperdir=$tmp/upper,workdir=$tmp/work"
mount_at "$root/proc" -t proc proc
# Downloaded packages are kept between runs.
mount_at "$root/var/cache/apt/archives" --bind "$cache/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mkdir "$root/tmp/debs"
cp "$controller_deb" "$agent_deb" "$root/tmp/debs/"

step "apt-get install ./slipway-controller.deb ./slipway-agent.deb"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }
in_root apt-get update -qq >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; fail "apt-get update"; }
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "/tmp/debs/$(basename "$agent_deb")" "/tmp/debs/$(basename "$controller_deb")" \
  >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "apt-get install"; }
grep -E '^(Setting up|Unpacking) ' "$tmp/install.log" | sed 's/^/  /' | grep -i slipway
in_root dpkg --audit >"$tmp/audit" 2>&1 && [ ! -s "$tmp/audit" ] || { cat "$tmp/audit" >&2; fail "dpkg --audit"; }

step "programs"
version=$(dpkg-deb -f "$controller_deb" Version)
version=${version%-*}
for program in slipwayd slipway slipway-agent; do
  got=$(in_root "$program" --version) || fail "$program --version"
  echo "  $got"
  [ "$got" = "$program $version" ] || fail "$program --version says \"$got\", not \"$program $version\""
done
[ -x "$root/usr/libexec/slipway/slipway-local-launch" ] || fail "no /usr/libexec/slipway/slipway-local-launch"
[ -x "$root/usr/libexec/slipway/slipway-boot" ] || fail "no /usr/libexec/slipway/slipway-boot"
# Every command the agent says it is, as a link in /usr/bin to the agent.
commands=$(in_root slipway-agent --help | tr ' ,()' '\n\n\n\n' | grep -E '^ss-[a-z-]+$' | sort -u)
[ -n "$commands" ] || fail "slipway-agent --help names no ss-* command"
for command in $commands; do
  [ "$(in_root readlink -f "/usr/bin/$command")" = /usr/sbin/slipway-agent ] ||
    fail "/usr/bin/$command is not a link to /usr/sbin/slipway-agent"
done
echo "  /usr/bin:" $commands
out=$(in_root ss-get some-key 2>&1) && fail "ss-get without an agent succeeded"
echo "  ss-get without an agent: $out"

step "groups, conffile, enabled units"
for group in slipway slipway-admin; do
  in_root getent group "$group" >/dev/null || fail "no group $group"
done
in_root dpkg-query -W -f='${Conffiles}\n' slipway-controller | grep -q '^ /etc/slipway/slipway.yaml ' ||
  fail "/etc/slipway/slipway.yaml is not a conffile"
for unit in slipwayd.service slipway-agent.service slipway-boot.service; do
  [ -L "$root/etc/systemd/system/multi-user.target.wants/$unit" ] || fail "$unit is not enabled"
done
echo "  groups slipway, slipway-admin; conffile /etc/slipway/slipway.yaml; 3 units enabled"

step "systemd-analyze verify"
# From the host, on the chroot's files and targets. Any output counts as
# failure: systemd only warns about unknown keys and bad values.
verify() {
  out=$(systemd-analyze verify --man=no --root="$root" "$@" 2>&1) && [ -z "$out" ] && return 0
  echo "$out"
  return 1
}
units=$root/lib/systemd/system
# A unit with a misspelt key and one whose program is missing must fail,
# or the check below proves nothing.
sed 's/^ExecReload=/ExecRelaod=/' "$units/slipwayd.service" >"$units/broken-key.service"
sed 's|^ExecStart=/usr/sbin/slipwayd|ExecStart=/usr/sbin/no-such-slipwayd|' "$units/slipwayd.service" \
  >"$units/broken-exec.service"
for broken in broken-key.service broken-exec.service; do
  verify "$units/$broken" >/dev/null && fail "systemd-analyze verify accepted $broken"
done
rm "$units/broken-key.service" "$units/broken-exec.service"
for unit in slipwayd.service slipway-agent.service slipway-boot.service; do
  verify "$units/$unit" || fail "systemd-analyze verify rejects $unit"
  echo "  $unit: ok"
done
echo "PASS"
