#!/bin/sh
# The clang build's -Wthread-safety only means something while slipway::Mutex
# is a capability the analysis knows: a member GUARDED_BY it and touched
# without the lock must fail to compile, and the same code with a MutexLock
# must compile. Skipped (77) without clang++.
set -eu
source_dir="$1"
command -v clang++ >/dev/null 2>&1 || { echo "no clang++: skipped"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/bad.cpp" <<'CPP'
#include "common/mutex.h"
struct Counter {
  slipway::Mutex mutex;
  int value GUARDED_BY(mutex) = 0;
  void bump() { ++value; }
};
int main() { Counter c; c.bump(); }
CPP
sed 's/void bump() { ++value; }/void bump() { slipway::MutexLock lock(mutex); ++value; }/' \
  "$work/bad.cpp" > "$work/good.cpp"
flags="-std=c++20 -fsyntax-only -I$source_dir -Wthread-safety -Werror=thread-safety"
# shellcheck disable=SC2086
if clang++ $flags "$work/bad.cpp" 2> "$work/bad.log"; then
  echo "an unlocked write to a GUARDED_BY member compiled: the analysis is off" >&2
  exit 1
fi
grep -q "requires holding mutex" "$work/bad.log" || { cat "$work/bad.log" >&2; exit 1; }
# shellcheck disable=SC2086
clang++ $flags "$work/good.cpp"
echo "the analysis refuses the unlocked write and accepts the locked one"
