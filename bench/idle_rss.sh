#!/bin/sh
# Idle resident memory of slipwayd and of one connected slipway-agent.
#
#   bench/idle_rss.sh [BUILD_DIR] [IDLE_SECONDS]
#
# Targets (issue 2): agent at most 4 MiB, controller at most 20 MiB.
set -eu
build=$(realpath "${1:-build}")
idle=${2:-10}
work=$(mktemp -d /tmp/slipway-bench-XXXXXX)
bridge=slwbenchrss0
cleanup() {
  kill "${agent_pid:-}" "${controller_pid:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  # slipwayd keeps its local cloud's bridge when it exits (machines outlive
  # it); this one is the benchmark's own.
  nft delete table ip "slipway-$bridge" 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
slipway() { "$build/cli/slipway" --socket "$work/control.sock" "$@"; }

cat >"$work/slipway.yaml" <<CONFIG
clouds:
  local: {bridge: $bridge, subnet: 10.213.250.0/24}
CONFIG
"$build/controller/slipwayd" --config "$work/slipway.yaml" --data-dir "$work/data" \
  --control-socket "$work/control.sock" --agent-endpoint 'tcp://127.0.0.1:*' --log-level warn \
  2>"$work/slipwayd.log" &
controller_pid=$!
for _ in $(seq 100); do slipway status >/dev/null 2>&1 && break; sleep 0.1; done
slipway agent add bench -o "$work/bench.context" >/dev/null
"$build/agent/slipway-agent" --context "$work/bench.context" --state-dir "$work/agent-state" --log-level warn 2>"$work/agent.log" &
agent_pid=$!
for _ in $(seq 100); do slipway status | grep -q "bench.*connected" && break; sleep 0.1; done
sleep "$idle"

rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
a=$(rss "$agent_pid")
c=$(rss "$controller_pid")
printf 'idle %ss after connecting, VmRSS:\n' "$idle"
awk -v a="$a" -v c="$c" 'BEGIN {
  printf "  slipway-agent  %6d KiB  (%.1f MiB, target <= 4 MiB)\n", a, a / 1024
  printf "  slipwayd       %6d KiB  (%.1f MiB, target <= 20 MiB)\n", c, c / 1024 }'
[ "$a" -le 4096 ] && [ "$c" -le 20480 ]
