#!/bin/sh
# The Debian packages install into a clean Debian 12 and work there:
#
#   1. cpack makes slipway-controller and slipway-agent from the build tree;
#   2. a fresh Debian 12 minbase is unpacked from a tarball cached in CACHE
#      (made once with debootstrap, with systemd and every dependency the two
#      packages declare, so installing needs no network), and dpkg installs
#      both packages there;
#   3. the programs run, the ss-* links are all there, the groups exist, the
#      configuration is a conffile, the units are enabled, and
#      `systemd-analyze verify` accepts the units, warnings included (a broken
#      unit is shown to fail the same check first);
#   4. the maintainer scripts are idempotent: installing again (an upgrade to
#      the same version), remove, install, purge, install all succeed and
#      leave a consistent system.
#
# usage: check_debs.sh CPACK BUILD_DIR CACHE_DIR
# Needs root (chroot, and debootstrap the first time, from
# SLIPWAY_DEBIAN_MIRROR, default http://deb.debian.org/debian); exits 77
# (skipped) without it. Leaves nothing mounted and no temporary directory.
set -eu

if [ $# -ne 3 ]; then
  echo "usage: $0 CPACK BUILD_DIR CACHE_DIR" >&2
  exit 2
fi
cpack=$1
build=$2
cache=$3
mirror=${SLIPWAY_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: installing the packages into a debootstrap chroot needs root"
  exit 77
fi
for tool in debootstrap dpkg-deb systemd-analyze; do
  if ! command -v $tool >/dev/null; then
    echo "FAIL: $tool is missing (scripts/setup installs it)" >&2
    exit 1
  fi
done

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }
started=$(date +%s)

tmp=$(mktemp -d /tmp/slipway-debs.XXXXXX)
root=$tmp/root
mounted=
cleanup() {
  for m in $mounted; do umount "$m" 2>/dev/null || umount -l "$m"; done
  mounted=
  if grep -q " $tmp/" /proc/mounts; then
    echo "FAIL: still mounted under $tmp:" >&2
    grep " $tmp/" /proc/mounts >&2
    exit 1
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mount_at() { # mount_at TARGET MOUNT-ARGS...
  target=$1
  shift
  mount "$@" "$target"
  mounted="$target $mounted"
}
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 "$@"; }

# --- 1. the packages ----------------------------------------------------------
step "cpack"
"$cpack" --config "$build/CPackConfig.cmake" -B "$tmp/debs" >"$tmp/cpack.log" 2>&1 ||
  {
    cat "$tmp/cpack.log" >&2
    fail "cpack"
  }
controller_deb=$(ls "$tmp"/debs/slipway-controller_*.deb)
agent_deb=$(ls "$tmp"/debs/slipway-agent_*.deb)
for deb in "$controller_deb" "$agent_deb"; do
  echo "  $(basename "$deb")"
  dpkg-deb --info "$deb" >"$tmp/info" || fail "dpkg-deb --info $deb"
  sed -n 's/^ \(Package\|Version\|Architecture\|Depends\|Section\):/   &/p' "$tmp/info"
  dpkg-deb --contents "$deb" >"$tmp/contents" || fail "dpkg-deb --contents $deb"
  # Every file belongs to root, and nothing is installed under /usr/local.
  awk '$2 != "root/root" { print; bad = 1 } END { exit bad }' "$tmp/contents" ||
    fail "$(basename "$deb") has files not owned by root"
  ! grep -q ' \./usr/local/' "$tmp/contents" || fail "$(basename "$deb") installs into /usr/local"
  # Installed-Size is what the files take (KiB), links counted as links:
  # within 64 KiB of the sum of the regular files' sizes.
  declared=$(dpkg-deb -f "$deb" Installed-Size)
  files_kib=$(awk '$1 !~ /^l/ { sum += $3 } END { print int(sum / 1024) }' "$tmp/contents")
  [ "$declared" -le $((files_kib + 64)) ] && [ "$declared" -ge "$files_kib" ] ||
    fail "$(basename "$deb") says Installed-Size $declared KiB; its files take $files_kib KiB"
  for script in postinst prerm postrm; do
    dpkg-deb --ctrl-tarfile "$deb" | tar -t | grep -qx "\./$script" ||
      fail "$(basename "$deb") has no $script"
  done
done

# --- 2. a clean Debian 12 with what the packages depend on --------------------
# The names in both Depends fields, first alternative, versions dropped, the
# packages' own names left out. Bookworm satisfies every version asked.
depends=$(for deb in "$controller_deb" "$agent_deb"; do dpkg-deb -f "$deb" Depends; echo; done |
  tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep -v '^slipway-' | grep . |
  sort -u | tr '\n' ',')
include=systemd,${depends%,}
key=$(echo "bookworm minbase $include" | sha256sum | cut -c1-12)
tarball=$cache/debian-12-minbase-$key.tar
if [ ! -f "$tarball" ]; then
  step "debootstrap --variant=minbase --include=$include bookworm (once; cached in $tarball)"
  mkdir -p "$cache"
  debootstrap --variant=minbase --include="$include" bookworm "$tmp/bootstrap" "$mirror" \
    >"$tmp/debootstrap.log" 2>&1 ||
    {
      tail -20 "$tmp/debootstrap.log" >&2
      fail "debootstrap"
    }
  # The build host's resolvers and the downloaded packages stay out.
  rm -f "$tmp/bootstrap/etc/resolv.conf"
  rm -rf "$tmp"/bootstrap/var/cache/apt/archives/*.deb
  tar -C "$tmp/bootstrap" --numeric-owner -cf "$tarball.$$" . || fail "tar of the chroot"
  rm -rf "$tmp/bootstrap"
  # Tarballs for other dependency lists are of no more use.
  for old in "$cache"/debian-12-minbase-*.tar; do [ "$old" = "$tarball" ] || rm -f "$old"; done
  mv "$tarball.$$" "$tarball"
fi
step "unpack $(basename "$tarball")"
mkdir "$root"
tar -C "$root" --numeric-owner -xpf "$tarball" || fail "unpacking $tarball"
mount_at "$root/proc" -t proc proc
cp "$controller_deb" "$agent_deb" "$root/tmp/"
agent_in_root=/tmp/$(basename "$agent_deb")
controller_in_root=/tmp/$(basename "$controller_deb")

# --- 3. install, and what the packages put there --------------------------------
install_both() {
  in_root dpkg -i "$agent_in_root" "$controller_in_root" >"$tmp/dpkg.log" 2>&1 ||
    {
      cat "$tmp/dpkg.log" >&2
      fail "dpkg -i ($1)"
    }
  in_root dpkg --audit >"$tmp/audit" 2>&1 && [ ! -s "$tmp/audit" ] ||
    {
      cat "$tmp/audit" >&2
      fail "dpkg --audit after $1"
    }
}
step "dpkg -i slipway-agent slipway-controller"
install_both "the first installation"

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
check_installed_state() {
  for group in slipway slipway-admin; do
    in_root getent group "$group" >/dev/null || fail "no group $group ($1)"
  done
  in_root dpkg-query -W -f='${Conffiles}\n' slipway-controller | grep -q '^ /etc/slipway/slipway.yaml ' ||
    fail "/etc/slipway/slipway.yaml is not a conffile ($1)"
  for unit in slipwayd.service slipway-agent.service slipway-boot.service; do
    [ -L "$root/etc/systemd/system/multi-user.target.wants/$unit" ] || fail "$unit is not enabled ($1)"
    [ ! -L "$root/etc/systemd/system/$unit" ] || fail "$unit is masked ($1)"
  done
}
check_installed_state "after the first installation"
echo "  groups slipway, slipway-admin; conffile /etc/slipway/slipway.yaml; 3 units enabled"

step "systemd-analyze verify"
# Inside the chroot, with its systemd and its targets. Any output counts as
# failure: systemd only warns about unknown keys and bad values.
verify() {
  out=$(in_root systemd-analyze verify --man=no "$@" 2>&1) && [ -z "$out" ] && return 0
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
  verify "/lib/systemd/system/$broken" >/dev/null && fail "systemd-analyze verify accepted $broken"
done
rm "$units/broken-key.service" "$units/broken-exec.service"
for unit in slipwayd.service slipway-agent.service slipway-boot.service; do
  verify "/lib/systemd/system/$unit" || fail "systemd-analyze verify rejects $unit"
  echo "  $unit: ok"
done
grep -qx 'KillMode=process' "$units/slipwayd.service" ||
  fail "slipwayd.service lacks KillMode=process (machines must outlive a restart)"

# --- 4. the maintainer scripts, again and in every order ----------------------------
step "maintainer scripts: reinstall, remove, install, purge, install"
# A local change to the conffile survives all but the purge.
echo "# changed by the test" >>"$root/etc/slipway/slipway.yaml"
install_both "a reinstallation"
check_installed_state "after a reinstallation"
in_root dpkg --remove slipway-controller slipway-agent >"$tmp/dpkg.log" 2>&1 ||
  {
    cat "$tmp/dpkg.log" >&2
    fail "dpkg --remove"
  }
[ ! -e "$root/usr/sbin/slipwayd" ] || fail "slipwayd is still there after dpkg --remove"
grep -q 'changed by the test' "$root/etc/slipway/slipway.yaml" ||
  fail "dpkg --remove did not keep the changed /etc/slipway/slipway.yaml"
install_both "a removal"
check_installed_state "after a removal and a new installation"
in_root dpkg --purge slipway-controller slipway-agent >"$tmp/dpkg.log" 2>&1 ||
  {
    cat "$tmp/dpkg.log" >&2
    fail "dpkg --purge"
  }
[ ! -e "$root/etc/slipway/slipway.yaml" ] || fail "/etc/slipway/slipway.yaml is still there after a purge"
for unit in slipwayd.service slipway-agent.service slipway-boot.service; do
  [ ! -e "$root/etc/systemd/system/multi-user.target.wants/$unit" ] &&
    [ ! -L "$root/etc/systemd/system/$unit" ] || fail "$unit is still enabled or masked after a purge"
done
install_both "a purge"
check_installed_state "after a purge and a new installation"
echo "  ok"

echo "PASS in $(($(date +%s) - started)) s"
