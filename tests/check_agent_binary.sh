#!/bin/sh
# The agent is one fully static binary of at most 3 MiB, stripped.
set -eu
agent=$1
description=$(file -b "$agent")
echo "$description"
case "$description" in
  *"statically linked"*) ;;
  *) echo "FAIL: slipway-agent is not statically linked" >&2; exit 1 ;;
esac
if readelf -d "$agent" 2>/dev/null | grep -q "Dynamic section"; then
  echo "FAIL: slipway-agent has a dynamic section" >&2; exit 1
fi
stripped=$(mktemp)
strip -o "$stripped" "$agent"
size=$(stat -c %s "$stripped")
rm -f "$stripped"
echo "stripped size: $size bytes"
[ "$size" -le 3145728 ] || { echo "FAIL: stripped slipway-agent is over 3 MiB" >&2; exit 1; }
"$agent" --version
