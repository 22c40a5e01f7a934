#!/bin/sh
# The woken get of two builds, interleaved: the tail of that figure follows
# the host's load more than anything else, so two builds are only compared
# run against run, alternating which goes first, with the machine's floor
# (build/bench/handoff_floor 4: four empty hand-offs) before each pair.
#
#   sudo bench/ab_wake.sh BEFORE_BUILD AFTER_BUILD [PAIRS] [CLOUD]
#
# Prints one line per pair: floor p99, then p50 and p99 of each build, in us.
set -eu
before=$1
after=$2
pairs=${3:-10}
cloud=${4:-local}
here=$(cd "$(dirname "$0")" && pwd)
wake() {
  sh "$here/coordination.sh" "$1" "$cloud" wake 2>&1 |
    sed -n 's/.*woken.*p50 \([0-9]*\) us, p99 \([0-9]*\) us.*/\1 \2/p'
}
echo "pair  floor-p99  before-p50 before-p99  after-p50 after-p99"
for i in $(seq 1 "$pairs"); do
  floor=$("$after/bench/handoff_floor" 4 | sed 's/.*p99 \([0-9]*\) us.*/\1/')
  if [ $((i % 2)) -eq 1 ]; then
    b=$(wake "$before")
    a=$(wake "$after")
  else
    a=$(wake "$after")
    b=$(wake "$before")
  fi
  echo "$i  $floor  $b  $a"
done
