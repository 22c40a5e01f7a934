#!/bin/sh
# The source check must fail on what it is there to catch: a tree with one
# header included twice, a store file that includes the deployments room, and
# a file of 601 lines, a deployments file that prepares SQL; and pass on the
# same tree mended.
set -eu
check="$1"
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir -p "$tree/controller/store" "$tree/controller/deployments"
printf '#include "common/log.h"\nint a;\n#include "common/log.h"\n' > "$tree/controller/deployments/twice.cpp"
printf '#include "controller/deployments/deployment.h"\n' > "$tree/controller/store/upward.cpp"
seq 601 | sed 's|^|// |' > "$tree/controller/store/long.h"
printf 'auto s = store.db().prepare("SELECT 1");\n' > "$tree/controller/deployments/sql.cpp"

if out=$(sh "$check" "$tree"); then
  echo "the check passed a tree it should have failed" >&2
  exit 1
fi
for expected in "twice.cpp: includes more than once" "upward.cpp: may not include" "long.h: 601 lines" \
                "sql.cpp: speaks SQL"; do
  if ! printf '%s\n' "$out" | grep -q "$expected"; then
    echo "the check did not report: $expected" >&2
    printf '%s\n' "$out" >&2
    exit 1
  fi
done

printf '#include "common/log.h"\nint a;\n' > "$tree/controller/deployments/twice.cpp"
printf '#include "controller/store/store.h"\n' > "$tree/controller/store/upward.cpp"
seq 600 | sed 's|^|// |' > "$tree/controller/store/long.h"
printf 'auto s = rows.all("d");\n' > "$tree/controller/deployments/sql.cpp"
sh "$check" "$tree"
echo "the check fails on each offence and passes the mended tree"
